// Mimic's portal: a hash-routed single page over the portal's same-origin BFF (/api/arm, /api/graph).
// The browser never holds a token; state-changing calls carry X-Mimic-Portal (the BFF's CSRF check).

const API = { vm: "2024-07-01", msi: "2023-01-31", rg: "2021-04-01", net: "2024-05-01", authz: "2022-04-01", subs: "2022-12-01", kv: "2023-07-01" };
const main = document.getElementById("main");
let me = null;
let subscription = null;

// ---- HTTP -------------------------------------------------------------------------------------

class AzureError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function call(surface, method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-Mimic-Portal"] = "1";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(`/api/${surface}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  if (r.status === 401 && surface === "arm" && (await r.clone().json().catch(() => ({})))?.error?.code === "NotSignedIn") {
    location.href = "/signin";
    throw new AzureError(401, "NotSignedIn", "Sign in to the portal.");
  }
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) {
    const e = json?.error ?? {};
    throw new AzureError(r.status, e.code ?? String(r.status), e.message ?? text ?? r.statusText);
  }
  return json;
}
const arm = (method, path, apiVersion, body) => call("arm", method, `${path}${path.includes("?") ? "&" : "?"}api-version=${apiVersion}`, body);
const graph = (method, path, body) => call("graph", method, path, body);

// ---- DOM helpers -------------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const uid = (() => { let n = 0; return (p) => `${p}-${++n}`; })();

function notify(title, message, kind = "ok") {
  const box = document.getElementById("notifications");
  const toast = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
    h("button", { "aria-label": "Dismiss notification", onclick: () => toast.remove() }, "×"), h("h3", {}, title), h("p", {}, message));
  box.append(toast);
  if (kind !== "error") setTimeout(() => toast.remove(), 8000);
}
const fail = (title) => (e) => notify(title, e.message, "error");

/** A modal dialog; resolves true for Yes. Focus moves in, is trapped, and returns on close. */
function confirmDialog(title, text) {
  return new Promise((resolve) => {
    const back = document.activeElement;
    const titleId = uid("dlg"), textId = uid("dlgtext");
    const close = (v) => { overlay.remove(); back?.focus?.(); resolve(v); };
    const yes = h("button", { class: "primary", onclick: () => close(true) }, "Yes");
    const no = h("button", { class: "secondary", onclick: () => close(false) }, "No");
    const dialog = h("div", { class: "dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, "aria-describedby": textId },
      h("h2", { id: titleId }, title), h("p", { id: textId }, text), h("div", { class: "actions" }, yes, no));
    const overlay = h("div", { class: "overlay", onkeydown: (e) => trap(e, dialog, () => close(false)) }, dialog);
    document.body.append(overlay);
    yes.focus();
  });
}

function trap(e, container, onEscape) {
  if (e.key === "Escape") { e.preventDefault(); onEscape(); return; }
  if (e.key !== "Tab") return;
  const f = [...container.querySelectorAll("button:not(:disabled), input:not(:disabled), select, a[href], [tabindex='0']")];
  if (!f.length) return;
  if (e.shiftKey && document.activeElement === f[0]) { e.preventDefault(); f.at(-1).focus(); }
  else if (!e.shiftKey && document.activeElement === f.at(-1)) { e.preventDefault(); f[0].focus(); }
}

/** A side panel (context pane) with a title; returns { panel, close }. */
function openPanel(title, build) {
  const back = document.activeElement;
  const titleId = uid("panel");
  const panel = h("div", { class: "panel", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId }, h("h2", { id: titleId }, title));
  const close = () => { overlay.remove(); back?.focus?.(); };
  const overlay = h("div", { class: "overlay panel-overlay", onkeydown: (e) => trap(e, panel, close) }, panel);
  document.body.append(overlay);
  build(panel, close);
  (panel.querySelector("input, select, button") ?? panel).focus();
  return { panel, close };
}

function tabs(label, specs) {
  // WAI-ARIA tabs: arrow keys move between tabs, the selected one is in the tab order.
  const list = h("div", { role: "tablist", "aria-label": label });
  const panels = [];
  const tabEls = specs.map((s, i) => {
    const tabId = uid("tab"), panelId = uid("tabpanel");
    const panel = h("div", { role: "tabpanel", id: panelId, "aria-labelledby": tabId, tabindex: "0", hidden: i !== 0 });
    panels.push(panel);
    const t = h("button", { role: "tab", id: tabId, "aria-controls": panelId, "aria-selected": i === 0 ? "true" : "false", tabindex: i === 0 ? "0" : "-1",
      onclick: () => select(i), onkeydown: (e) => {
        const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
        if (d) { e.preventDefault(); select((i + d + specs.length) % specs.length); tabEls[(i + d + specs.length) % specs.length].focus(); }
      } }, s.title);
    return t;
  });
  function select(i) {
    tabEls.forEach((t, j) => { t.setAttribute("aria-selected", String(i === j)); t.tabIndex = i === j ? 0 : -1; panels[j].hidden = i !== j; });
    specs[i].onShow?.(panels[i]);
  }
  list.append(...tabEls);
  specs.forEach((s, i) => s.build(panels[i]));
  return { list, panels, select };
}

function table(caption, columns, rows, { selectable = false, onSelect } = {}) {
  const selected = new Set();
  const t = h("table", { role: selectable ? "grid" : "table", "aria-label": caption, "aria-multiselectable": selectable ? "true" : undefined });
  const head = h("tr", {}, selectable ? h("th", { scope: "col" }, h("span", { class: "skip" }, "Select")) : null, ...columns.map((c) => h("th", { scope: "col" }, c.title)));
  const body = rows.map((row) => {
    const tr = h("tr", selectable ? { "aria-selected": "false" } : {});
    if (selectable) {
      const name = columns[0].text(row);
      const box = h("input", { type: "checkbox", "aria-label": name, onchange: () => {
        if (box.checked) selected.add(row); else selected.delete(row);
        tr.setAttribute("aria-selected", String(box.checked));
        onSelect?.([...selected]);
      } });
      tr.append(h("td", { role: selectable ? "gridcell" : undefined }, box));
    }
    for (const c of columns) tr.append(h("td", { role: selectable ? "gridcell" : undefined }, c.cell ? c.cell(row) : c.text(row)));
    return tr;
  });
  t.append(h("thead", {}, head), h("tbody", {}, body));
  return rows.length ? t : h("p", { class: "empty" }, `No ${caption.toLowerCase()} to display.`);
}

function page({ crumbs, title, subtitle }, ...content) {
  main.replaceChildren(
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("ol", {}, crumbs.map(([t, href], i) =>
      h("li", {}, href ? h("a", { href, "aria-current": i === crumbs.length - 1 ? "page" : undefined }, t) : t)))),
    h("h1", { class: "blade-title" }, title), subtitle ? h("p", { class: "blade-subtitle" }, subtitle) : null, ...content);
  document.title = `${title} - Microsoft Azure (Mimic)`;
}

const parseId = (id) => {
  const p = id.split("/");
  const i = (k) => p.findIndex((s) => s.toLowerCase() === k);
  return { sub: p[i("subscriptions") + 1], rg: p[i("resourcegroups") + 1], name: p.at(-1) };
};
const subPath = () => `/subscriptions/${subscription.subscriptionId}`;
const vmPath = (rg, name) => `${subPath()}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
const field = (label, control) => { const id = uid("f"); control.id = id; return h("div", { class: "field" }, h("label", { for: id }, label), control); };
const select = (options, value) => h("select", {}, options.map((o) => h("option", { value: o.value ?? o, selected: (o.value ?? o) === value }, o.label ?? o)));

// ---- Long-running operations ----------------------------------------------------------------------

/** Compute answers PUT/PATCH with Creating/Updating: re-GET until the operation settled. */
async function settle(path, apiVersion) {
  for (let i = 0; i < 60; i++) {
    const r = await arm("GET", path, apiVersion);
    const s = r.properties?.provisioningState;
    if (s !== "Creating" && s !== "Updating" && s !== "Deleting") {
      if (s === "Failed") throw new AzureError(500, "Failed", `The operation on ${r.name} failed.`);
      return r;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new AzureError(504, "Timeout", "The operation did not finish in time.");
}

// ---- Pages ------------------------------------------------------------------------------------------

async function resourceGroupsPage() {
  const groups = (await arm("GET", `${subPath()}/resourcegroups`, API.rg)).value;
  page({ crumbs: [["Home", "#/"], ["Resource groups"]], title: "Resource groups", subtitle: subscription.displayName },
    h("div", { class: "commandbar", role: "toolbar", "aria-label": "Resource groups commands" },
      h("button", { onclick: () => openPanel("Create a resource group", (panel, close) => {
        const name = h("input", { type: "text", required: true });
        const region = select(["westus", "eastus", "westeurope", "northeurope"], "westus");
        panel.append(field("Resource group", name), field("Region", region), h("div", { class: "actions" },
          h("button", { class: "primary", onclick: async () => {
            try { await arm("PUT", `${subPath()}/resourcegroups/${encodeURIComponent(name.value)}`, API.rg, { location: region.value }); close(); notify("Resource group created", name.value); route(); }
            catch (e) { fail("Failed to create resource group")(e); }
          } }, "Create"), h("button", { class: "secondary", onclick: close }, "Cancel")));
      }) }, "+ Create"),
      h("button", { onclick: route }, "Refresh")),
    table("Resource groups", [
      { title: "Name", text: (g) => g.name },
      { title: "Location", text: (g) => g.location },
      { title: "Access", text: () => "", cell: (g) => h("a", { href: `#/iam?scope=${encodeURIComponent(g.id)}` }, "Access control (IAM)") },
    ], groups));
}

async function virtualMachinesPage() {
  const vms = (await arm("GET", `${subPath()}/providers/Microsoft.Compute/virtualMachines`, API.vm)).value;
  page({ crumbs: [["Home", "#/"], ["Virtual machines"]], title: "Virtual machines", subtitle: subscription.displayName },
    h("div", { class: "commandbar", role: "toolbar", "aria-label": "Virtual machines commands" },
      h("button", { onclick: () => { location.hash = "#/create/vm"; } }, "+ Create"), h("button", { onclick: route }, "Refresh")),
    table("Virtual machines", [
      { title: "Name", text: (v) => v.name, cell: (v) => h("a", { href: `#/vm/${parseId(v.id).rg}/${v.name}` }, v.name) },
      { title: "Resource group", text: (v) => parseId(v.id).rg },
      { title: "Location", text: (v) => v.location },
      { title: "Size", text: (v) => v.properties?.hardwareProfile?.vmSize ?? "" },
    ], vms));
}

async function createVmPage() {
  const groups = (await arm("GET", `${subPath()}/resourcegroups`, API.rg)).value.map((g) => g.name);
  const rg = select(groups), name = h("input", { type: "text", required: true }), region = select(["westus", "eastus", "westeurope"], "westus");
  const image = select([{ value: "Ubuntu2204", label: "Ubuntu Server 22.04 LTS - x64 Gen2" }, { value: "Debian11", label: "Debian 11 \"Bullseye\" - x64 Gen2" }]);
  const size = select(["Standard_B1s", "Standard_B2s", "Standard_D2s_v3"], "Standard_B1s");
  const user = h("input", { type: "text", value: "azureuser" }), pass = h("input", { type: "password", autocomplete: "new-password" });
  const systemIdentity = h("input", { type: "checkbox", id: uid("sysid") });
  const images = {
    Ubuntu2204: { publisher: "Canonical", offer: "0001-com-ubuntu-server-jammy", sku: "22_04-lts-gen2", version: "latest" },
    Debian11: { publisher: "Debian", offer: "debian-11", sku: "11-gen2", version: "latest" },
  };
  const review = h("div");
  const t = tabs("Create a virtual machine", [
    { title: "Basics", build: (p) => p.append(h("h2", {}, "Project details"), field("Subscription", select([subscription.displayName])), field("Resource group", rg),
      h("h2", {}, "Instance details"), field("Virtual machine name", name), field("Region", region), field("Image", image), field("Size", size),
      h("h2", {}, "Administrator account"), field("Username", user), field("Password", pass)) },
    { title: "Networking", build: (p) => p.append(h("p", { class: "info" }, "A new network interface, named after the virtual machine, is created with the virtual machine.")) },
    { title: "Management", build: (p) => p.append(h("h2", {}, "Identity"),
      h("div", { class: "field" }, systemIdentity, " ", h("label", { for: systemIdentity.id, style: "display:inline;font-weight:400" }, "Enable system assigned managed identity"))) },
    { title: "Review + create", build: () => {}, onShow: (p) => {
      p.replaceChildren(h("dl", { class: "essentials" },
        h("dt", {}, "Resource group"), h("dd", {}, rg.value), h("dt", {}, "Virtual machine name"), h("dd", {}, name.value),
        h("dt", {}, "Region"), h("dd", {}, region.value), h("dt", {}, "Size"), h("dd", {}, size.value),
        h("dt", {}, "System assigned managed identity"), h("dd", {}, systemIdentity.checked ? "On" : "Off")), review);
    } },
  ]);
  const create = async () => {
    if (!name.value || !pass.value) { notify("Validation failed", "Enter the virtual machine name and the administrator password on the Basics tab.", "error"); return; }
    const nicId = `${subPath()}/resourceGroups/${rg.value}/providers/Microsoft.Network/networkInterfaces/${name.value}-nic`;
    try {
      notify("Deployment in progress…", `Creating ${name.value}`);
      await arm("PUT", nicId, API.net, { location: region.value, properties: { ipConfigurations: [{ name: "ipconfig1", properties: { privateIPAllocationMethod: "Dynamic" } }] } });
      const body = {
        location: region.value,
        properties: {
          hardwareProfile: { vmSize: size.value },
          storageProfile: { imageReference: images[image.value], osDisk: { createOption: "FromImage", osType: "Linux" } },
          osProfile: { computerName: name.value, adminUsername: user.value, adminPassword: pass.value },
          networkProfile: { networkInterfaces: [{ id: nicId }] },
        },
      };
      if (systemIdentity.checked) body.identity = { type: "SystemAssigned" };
      await arm("PUT", vmPath(rg.value, name.value), API.vm, body);
      await settle(vmPath(rg.value, name.value), API.vm);
      notify("Your deployment is complete", `Virtual machine ${name.value} was created.`);
      location.hash = `#/vm/${rg.value}/${name.value}`;
    } catch (e) { fail("Deployment failed")(e); }
  };
  page({ crumbs: [["Home", "#/"], ["Virtual machines", "#/virtualMachines"], ["Create a virtual machine"]], title: "Create a virtual machine" },
    t.list, ...t.panels,
    h("div", { class: "commandbar" }, h("button", { class: "primary", onclick: create }, "Create"),
      h("button", { class: "secondary", onclick: () => { location.hash = "#/virtualMachines"; } }, "Cancel")));
}

/** A resource's blade frame: breadcrumb, title, resource menu. `menu`: [label, key] items (key "" is
 * the overview at `base`) and group headings as plain strings. */
function resourceBlade({ name, kind, list, base, section, menu }, ...content) {
  const item = (label, key) => h("li", {}, h("a", { href: key ? `${base}/${key}` : base, "aria-current": section === key ? "page" : undefined }, label));
  const current = menu.find((m) => Array.isArray(m) && m[1] === section);
  page({ crumbs: [["Home", "#/"], list, [name, base]], title: section ? `${name} | ${current[0]}` : name, subtitle: kind },
    h("div", { class: "resource-layout" },
      h("nav", { class: "resource-menu", "aria-label": "Resource menu" }, h("ul", {},
        menu.map((m) => (Array.isArray(m) ? item(...m) : h("li", { class: "group", role: "presentation" }, m))))),
      h("div", { class: "blade-content" }, ...content)));
}

/** The VM's blade frame. */
function vmBlade(vm, rg, section, ...content) {
  resourceBlade({ name: vm.name, kind: "Virtual machine", list: ["Virtual machines", "#/virtualMachines"], base: `#/vm/${rg}/${vm.name}`,
    section: section === "overview" ? "" : section,
    menu: [["Overview", ""], ["Access control (IAM)", "iam"], "Security", ["Identity", "identity"]] }, ...content);
}

async function vmOverviewPage(rg, name) {
  const vm = await arm("GET", `${vmPath(rg, name)}?$expand=instanceView`, API.vm);
  const power = vm.properties?.instanceView?.statuses?.find((s) => s.code?.startsWith("PowerState/"))?.displayStatus ?? "";
  const img = vm.properties?.storageProfile?.imageReference ?? {};
  const essentials = [["Resource group", rg], ["Status", power], ["Location", vm.location], ["Subscription", subscription.displayName],
    ["Subscription ID", subscription.subscriptionId], ["Size", vm.properties?.hardwareProfile?.vmSize], ["Operating system", vm.properties?.storageProfile?.osDisk?.osType ?? "Linux"],
    ["Image", `${img.publisher ?? ""} ${img.offer ?? ""} ${img.sku ?? ""}`.trim()], ["Identity", vm.identity?.type ?? "None"]];
  vmBlade(vm, rg, "overview",
    h("div", { class: "commandbar", role: "toolbar", "aria-label": "Virtual machine commands" }, h("button", { onclick: route }, "Refresh")),
    h("h2", {}, "Essentials"), h("dl", { class: "essentials" }, essentials.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "")])));
}

async function vmIdentityPage(rg, name) {
  const path = vmPath(rg, name);
  let vm = await arm("GET", path, API.vm);
  const uaiMap = () => vm.identity?.userAssignedIdentities ?? {};
  const hasSystem = () => /systemassigned/i.test(vm.identity?.type ?? "");
  const typeFor = (system, user) => (system && user ? "SystemAssigned, UserAssigned" : system ? "SystemAssigned" : user ? "UserAssigned" : "None");

  async function patchIdentity(identity, progress, done, failed) {
    notify(progress, `Updating ${vm.name}…`);
    try {
      await arm("PATCH", path, API.vm, { identity });
      vm = await settle(path, API.vm);
      notify(done, `${vm.name}`);
      return true;
    } catch (e) { fail(failed)(e); return false; }
  }

  // System assigned tab
  const systemPanel = (p) => {
    const groupName = uid("status");
    const off = h("input", { type: "radio", name: groupName, id: uid("off"), value: "off" });
    const on = h("input", { type: "radio", name: groupName, id: uid("on"), value: "on" });
    const details = h("div");
    const save = h("button", { disabled: true }, "Save");
    const discard = h("button", { disabled: true }, "Discard");
    const render = () => {
      on.checked = hasSystem(); off.checked = !hasSystem();
      save.disabled = discard.disabled = true;
      details.replaceChildren(...(hasSystem() ? [
        h("div", { class: "field" }, h("span", { class: "label", id: "principal-label" }, "Object (principal) ID"),
          h("span", { class: "mono", "aria-labelledby": "principal-label", id: "principal-id" }, vm.identity.principalId)),
        h("div", { class: "field" }, h("span", { class: "label" }, "Permissions"),
          h("button", { class: "secondary", onclick: () => { location.hash = `#/roleAssignments/${vm.identity.principalId}`; } }, "Azure role assignments")),
      ] : []));
    };
    const changed = () => { save.disabled = discard.disabled = on.checked === hasSystem(); };
    on.addEventListener("change", changed); off.addEventListener("change", changed);
    discard.addEventListener("click", render);
    save.addEventListener("click", async () => {
      const enable = on.checked;
      const title = enable ? "Enable system assigned managed identity" : "Disable system assigned managed identity";
      const text = enable
        ? `'${vm.name}' will be registered with Microsoft Entra ID. Once it is registered, '${vm.name}' can be granted permissions to access resources protected by Microsoft Entra ID. Do you want to enable the system assigned managed identity for '${vm.name}'?`
        : `Disabling system assigned managed identity will remove the identity of '${vm.name}' from Microsoft Entra ID, and any role assignments it has stop granting access. Do you want to disable it?`;
      if (!(await confirmDialog(title, text))) return;
      const users = Object.keys(uaiMap());
      const identity = { type: typeFor(enable, users.length > 0) };
      if (users.length) identity.userAssignedIdentities = Object.fromEntries(users.map((id) => [id, {}]));
      save.disabled = true;
      const ok = await patchIdentity(identity, "Updating system assigned managed identity", "Successfully updated system assigned managed identity", "Failed to update system assigned managed identity");
      if (ok) render(); else changed();
    });
    p.append(
      h("p", { class: "info" }, "A system assigned managed identity is restricted to one per resource and is tied to the lifecycle of this resource. You can grant permissions to the managed identity by using Azure role-based access control (Azure RBAC)."),
      h("div", { class: "commandbar", role: "toolbar", "aria-label": "System assigned identity commands" }, save, discard,
        h("button", { onclick: async () => { vm = await arm("GET", path, API.vm); render(); } }, "Refresh")),
      h("fieldset", { role: "radiogroup", "aria-labelledby": `${groupName}-legend` }, h("legend", { id: `${groupName}-legend`, class: "label" }, "Status"),
        h("div", { class: "segmented" }, h("label", {}, off, " Off"), h("label", {}, on, " On"))),
      details);
    render();
  };

  // User assigned tab
  const userPanel = (p) => {
    let selection = [];
    const remove = h("button", { disabled: true }, "Remove");
    const listBox = h("div");
    const render = () => {
      selection = []; remove.disabled = true;
      const rows = Object.entries(uaiMap()).map(([id, v]) => ({ id, ...parseId(id), ...v }));
      listBox.replaceChildren(table("User assigned managed identities", [
        { title: "Name", text: (r) => r.name },
        { title: "Resource group", text: (r) => r.rg },
        { title: "Client ID", text: (r) => r.clientId ?? "" },
        { title: "Object (principal) ID", text: (r) => r.principalId ?? "" },
      ], rows, { selectable: true, onSelect: (s) => { selection = s; remove.disabled = s.length === 0; } }));
    };
    remove.addEventListener("click", async () => {
      const names = selection.map((r) => r.name).join(", ");
      if (!(await confirmDialog("Remove user assigned managed identities", `Do you want to remove the user assigned managed identities '${names}' from '${vm.name}'?`))) return;
      const remaining = Object.keys(uaiMap()).filter((id) => !selection.some((r) => r.id === id));
      const identity = { type: typeFor(hasSystem(), remaining.length > 0) };
      // Azure merges the map on PATCH: null removes one; without user identities the map is left out.
      if (remaining.length) identity.userAssignedIdentities = Object.fromEntries(selection.map((r) => [r.id, null]));
      if (await patchIdentity(identity, "Removing user assigned managed identities", "Successfully removed user assigned managed identities", "Failed to remove user assigned managed identities")) render();
    });
    const add = () => openPanel("Add user assigned managed identity", async (panel, close) => {
      const list = h("div", { class: "list" }, h("p", { class: "loading" }, "Loading…"));
      let picked = [];
      const addBtn = h("button", { class: "primary", disabled: true }, "Add");
      panel.append(field("Subscription", select([subscription.displayName])), h("h3", {}, "User assigned managed identities"), list,
        h("div", { class: "actions" }, addBtn, h("button", { class: "secondary", onclick: close }, "Cancel")));
      try {
        const all = (await arm("GET", `${subPath()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, API.msi)).value;
        const assigned = new Set(Object.keys(uaiMap()).map((id) => id.toLowerCase()));
        const rows = all.filter((i) => !assigned.has(i.id.toLowerCase())).map((i) => ({ ...i, rg: parseId(i.id).rg }));
        list.replaceChildren(table("Identities", [{ title: "Name", text: (r) => r.name }, { title: "Resource group", text: (r) => r.rg }, { title: "Location", text: (r) => r.location }],
          rows, { selectable: true, onSelect: (s) => { picked = s; addBtn.disabled = s.length === 0; } }));
      } catch (e) { list.replaceChildren(h("p", { role: "alert" }, e.message)); }
      addBtn.addEventListener("click", async () => {
        const ids = [...Object.keys(uaiMap()), ...picked.map((r) => r.id)];
        const identity = { type: typeFor(hasSystem(), true), userAssignedIdentities: Object.fromEntries(ids.map((id) => [id, {}])) };
        close();
        if (await patchIdentity(identity, "Adding user assigned managed identities", "Successfully added user assigned managed identities", "Failed to add user assigned managed identities")) render();
      });
    });
    p.append(
      h("p", { class: "info" }, "User assigned managed identities enable Azure resources to authenticate to cloud services without storing credentials in code. This type of managed identity is created as a standalone Azure resource, and has its own lifecycle."),
      h("div", { class: "commandbar", role: "toolbar", "aria-label": "User assigned identity commands" }, h("button", { onclick: add }, "+ Add"), remove,
        h("button", { onclick: async () => { vm = await arm("GET", path, API.vm); render(); } }, "Refresh")),
      listBox);
    render();
  };

  const t = tabs("Identity type", [{ title: "System assigned", build: systemPanel }, { title: "User assigned", build: userPanel }]);
  const readOnly = (await canWrite(path, "Microsoft.Compute/virtualMachines/write")) ? null
    : h("p", { class: "info", role: "note" }, "You have read-only access to this virtual machine: changes you save need the Microsoft.Compute/virtualMachines/write permission (for example Virtual Machine Contributor).");
  vmBlade(vm, rg, "identity", readOnly, t.list, ...t.panels);
}

/** Whether the user's effective permissions at `scope` (ARM's permissions API) include `action`. */
async function canWrite(scope, action) {
  const matches = (pattern, a) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(a);
  try {
    const perms = (await arm("GET", `${scope}/providers/Microsoft.Authorization/permissions`, API.authz)).value;
    return perms.some((p) => p.actions.some((x) => matches(x, action)) && !p.notActions.some((x) => matches(x, action)));
  } catch { return true; } // unknown: let ARM decide on Save
}

/** Role assignments: of a scope (Access control (IAM)) or of one principal (Azure role assignments). */
async function roleAssignmentsPage({ scope, principalId, frame }) {
  const defs = (await arm("GET", `${subPath()}/providers/Microsoft.Authorization/roleDefinitions`, API.authz)).value;
  const roleName = (id) => defs.find((d) => id.toLowerCase().endsWith(d.name.toLowerCase()))?.properties.roleName ?? id.split("/").at(-1);
  const listScope = principalId ? subPath() : scope;
  const filter = principalId ? `?$filter=${encodeURIComponent(`principalId eq '${principalId}'`)}` : "";
  const all = (await arm("GET", `${listScope}/providers/Microsoft.Authorization/roleAssignments${filter}`, API.authz)).value;
  let selection = [];
  const remove = h("button", { disabled: true }, "Remove");
  remove.addEventListener("click", async () => {
    if (!(await confirmDialog("Remove role assignments", `Do you want to remove ${selection.length} role assignment(s)?`))) return;
    try { for (const a of selection) await arm("DELETE", a.id, API.authz); notify("Removed role assignments", `${selection.length} removed`); route(); }
    catch (e) { fail("Failed to remove role assignments")(e); }
  });
  const add = () => openPanel("Add role assignment", async (panel, close) => {
    const role = select(defs.map((d) => ({ value: d.id, label: d.properties.roleName })).sort((a, b) => a.label.localeCompare(b.label)));
    const groups = (await arm("GET", `${subPath()}/resourcegroups`, API.rg).catch(() => ({ value: [] }))).value;
    const scopeSel = select([{ value: subPath(), label: `Subscription: ${subscription.displayName}` }, ...groups.map((g) => ({ value: g.id, label: `Resource group: ${g.name}` }))], scope);
    const member = h("input", { type: "text", value: principalId ?? "", placeholder: "Object ID or user principal name" });
    // Members, as the Azure portal's Members tab: "Assign access to" a user, group or service
    // principal (by object id or user principal name) or a managed identity picked by name.
    const members = h("div");
    const assignTo = uid("assignto");
    const toPrincipal = h("input", { type: "radio", name: assignTo, value: "principal", checked: true, onchange: () => showPrincipal() });
    const toManaged = h("input", { type: "radio", name: assignTo, value: "managed", onchange: () => showManaged() });
    let chosen = async () => {
      let pid = member.value.trim();
      let type = principalId ? "ServicePrincipal" : undefined;
      if (pid.includes("@")) { pid = (await graph("GET", `/v1.0/users/${encodeURIComponent(pid)}`)).id; type = "User"; }
      return { pid, type };
    };
    const principalChoice = chosen;
    const showPrincipal = () => { members.replaceChildren(field("Member", member)); chosen = principalChoice; };
    const identities = {}; // kind -> [{ name, rg, principalId }], listed once per panel
    const showManaged = () => {
      const kind = select([{ value: "vm", label: "Virtual machine" }, { value: "uai", label: "User-assigned managed identity" }]);
      const who = h("select", {});
      const status = h("p", { class: "empty", role: "status" });
      let fills = 0;
      const fill = async () => {
        const n = ++fills;
        who.replaceChildren(); status.textContent = "Loading…";
        try {
          identities[kind.value] ??= kind.value === "vm"
            ? (await arm("GET", `${subPath()}/providers/Microsoft.Compute/virtualMachines`, API.vm)).value
              .filter((v) => /systemassigned/i.test(v.identity?.type ?? "") && v.identity.principalId)
              .map((v) => ({ name: v.name, rg: parseId(v.id).rg, principalId: v.identity.principalId }))
            : (await arm("GET", `${subPath()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, API.msi)).value
              .map((i) => ({ name: i.name, rg: parseId(i.id).rg, principalId: i.properties?.principalId }));
          if (n !== fills) return; // another kind was chosen meanwhile
          const found = identities[kind.value].slice().sort((a, b) => a.name.localeCompare(b.name));
          // By name; a name that occurs in several resource groups is told apart by its group.
          const twice = (i) => found.filter((o) => o.name.toLowerCase() === i.name.toLowerCase()).length > 1;
          who.replaceChildren(...found.map((i) => h("option", { value: i.principalId }, twice(i) ? `${i.name} (${i.rg})` : i.name)));
          status.textContent = found.length ? "" : `No ${kind.value === "vm" ? "virtual machines with a system assigned managed identity" : "user-assigned managed identities"} found in ${subscription.displayName}.`;
        } catch (e) { if (n === fills) status.textContent = e.message; }
      };
      kind.addEventListener("change", fill);
      members.replaceChildren(field("Managed identity", kind), field("Member", who), status);
      chosen = async () => ({ pid: who.value, type: "ServicePrincipal" });
      fill();
    };
    if (!principalId) showPrincipal();
    const legend = uid("assignto-legend");
    const membersSection = principalId ? [] : [
      h("fieldset", { role: "radiogroup", "aria-labelledby": legend, class: "choices" }, h("legend", { id: legend, class: "label" }, "Assign access to"),
        h("label", {}, toPrincipal, " User, group, or service principal"), h("label", {}, toManaged, " Managed identity")),
      members];
    panel.append(...(principalId ? [field("Scope", scopeSel)] : []), field("Role", role), ...membersSection,
      h("div", { class: "actions" }, h("button", { class: "primary", onclick: async () => {
        try {
          const { pid, type } = await chosen();
          if (!pid) { notify("Validation failed", "Select a member to assign the role to.", "error"); return; }
          const at = principalId ? scopeSel.value : scope;
          await arm("PUT", `${at}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}`, API.authz,
            { properties: { roleDefinitionId: role.value, principalId: pid, ...(type ? { principalType: type } : {}) } });
          close(); notify("Added role assignment", roleName(role.value)); route();
        } catch (e) { fail("Failed to add role assignment")(e); }
      } }, "Save"), h("button", { class: "secondary", onclick: close }, "Cancel")));
  });
  const content = [
    h("div", { class: "commandbar", role: "toolbar", "aria-label": "Role assignment commands" }, h("button", { onclick: add }, principalId ? "+ Add role assignment" : "+ Add"), remove, h("button", { onclick: route }, "Refresh")),
    table("Role assignments", [
      { title: "Role", text: (a) => roleName(a.properties.roleDefinitionId) },
      { title: "Principal", text: (a) => a.properties.principalId },
      { title: "Type", text: (a) => a.properties.principalType ?? "" },
      { title: "Scope", text: (a) => (principalId ? a.properties.scope : a.properties.scope.toLowerCase() === scope.toLowerCase() ? "This resource" : `${a.properties.scope} (Inherited)`) },
    ], all, { selectable: true, onSelect: (s) => { selection = s; remove.disabled = s.length === 0; } }),
  ];
  if (frame) frame(...content);
  else page({ crumbs: [["Home", "#/"], [principalId ? "Azure role assignments" : "Access control (IAM)"]], title: principalId ? "Azure role assignments" : "Access control (IAM)", subtitle: principalId ? `Principal ${principalId}` : scope }, ...content);
}

async function managedIdentitiesPage() {
  const all = (await arm("GET", `${subPath()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, API.msi)).value;
  let selection = [];
  const del = h("button", { disabled: true }, "Delete");
  del.addEventListener("click", async () => {
    if (!(await confirmDialog("Delete managed identities", `Do you want to delete '${selection.map((s) => s.name).join(", ")}'?`))) return;
    try { for (const s of selection) await arm("DELETE", s.id, API.msi); notify("Deleted managed identities", selection.map((s) => s.name).join(", ")); route(); }
    catch (e) { fail("Failed to delete managed identities")(e); }
  });
  const create = () => openPanel("Create User Assigned Managed Identity", async (panel, close) => {
    const groups = (await arm("GET", `${subPath()}/resourcegroups`, API.rg)).value.map((g) => g.name);
    const rg = select(groups), region = select(["westus", "eastus", "westeurope"], "westus"), name = h("input", { type: "text", required: true });
    panel.append(field("Resource group", rg), field("Region", region), field("Name", name), h("div", { class: "actions" },
      h("button", { class: "primary", onclick: async () => {
        try {
          await arm("PUT", `${subPath()}/resourceGroups/${rg.value}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${encodeURIComponent(name.value)}`, API.msi, { location: region.value });
          close(); notify("Deployment succeeded", `Managed identity ${name.value} was created.`); route();
        } catch (e) { fail("Failed to create managed identity")(e); }
      } }, "Create"), h("button", { class: "secondary", onclick: close }, "Cancel")));
  });
  page({ crumbs: [["Home", "#/"], ["Managed Identities"]], title: "Managed Identities", subtitle: subscription.displayName },
    h("div", { class: "commandbar", role: "toolbar", "aria-label": "Managed identities commands" }, h("button", { onclick: create }, "+ Create"), del, h("button", { onclick: route }, "Refresh")),
    table("Managed identities", [
      { title: "Name", text: (i) => i.name },
      { title: "Resource group", text: (i) => parseId(i.id).rg },
      { title: "Location", text: (i) => i.location },
      { title: "Client ID", text: (i) => i.properties?.clientId ?? "" },
      { title: "Object (principal) ID", text: (i) => i.properties?.principalId ?? "" },
    ], all, { selectable: true, onSelect: (s) => { selection = s; del.disabled = s.length === 0; } }));
}

// ---- Key vaults ----------------------------------------------------------------------------------------

const vaultPath = (rg, name) => `${subPath()}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/${name}`;

async function keyVaultsPage() {
  const vaults = (await arm("GET", `${subPath()}/providers/Microsoft.KeyVault/vaults`, API.kv)).value;
  page({ crumbs: [["Home", "#/"], ["Key vaults"]], title: "Key vaults", subtitle: subscription.displayName },
    h("div", { class: "commandbar", role: "toolbar", "aria-label": "Key vaults commands" }, h("button", { onclick: route }, "Refresh")),
    table("Key vaults", [
      { title: "Name", text: (v) => v.name, cell: (v) => h("a", { href: `#/keyvault/${parseId(v.id).rg}/${v.name}` }, v.name) },
      { title: "Type", text: () => "Key vault" },
      { title: "Resource group", text: (v) => parseId(v.id).rg },
      { title: "Location", text: (v) => v.location },
      { title: "Subscription", text: () => subscription.displayName },
    ], vaults));
}

/** The key vault's blade frame. */
function vaultBlade(vault, rg, section, ...content) {
  resourceBlade({ name: vault.name, kind: "Key vault", list: ["Key vaults", "#/keyVaults"], base: `#/keyvault/${rg}/${vault.name}`, section,
    menu: [["Overview", ""], ["Access control (IAM)", "iam"]] }, ...content);
}

/** The permission model of a vault, in the words of its Access configuration blade. */
const permissionModel = (vault) => (vault.properties?.enableRbacAuthorization ? "Azure role-based access control" : "Vault access policy");

async function vaultOverviewPage(rg, name) {
  const vault = await arm("GET", vaultPath(rg, name), API.kv);
  const p = vault.properties ?? {};
  const essentials = [["Resource group", rg], ["Location", vault.location], ["Subscription", subscription.displayName],
    ["Subscription ID", subscription.subscriptionId], ["Vault URI", p.vaultUri], ["Sku (Pricing tier)", p.sku?.name === "premium" ? "Premium" : "Standard"],
    ["Directory ID", p.tenantId], ["Permission model", permissionModel(vault)],
    ["Soft-delete", p.enableSoftDelete === false ? "Disabled" : "Enabled"], ["Purge protection", p.enablePurgeProtection ? "Enabled" : "Disabled"]];
  vaultBlade(vault, rg, "",
    h("div", { class: "commandbar", role: "toolbar", "aria-label": "Key vault commands" }, h("button", { onclick: route }, "Refresh")),
    h("h2", { id: "essentials-heading" }, "Essentials"),
    h("dl", { class: "essentials", "aria-labelledby": "essentials-heading" }, essentials.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "")])));
}

// ---- Router and start -------------------------------------------------------------------------------

async function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query ?? "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  for (const a of document.querySelectorAll(".portal-nav a")) a.setAttribute("aria-current", a.getAttribute("href") === `#${path}` ? "page" : "false");
  try {
    if (parts[0] === "virtualMachines") await virtualMachinesPage();
    else if (parts[0] === "create" && parts[1] === "vm") await createVmPage();
    else if (parts[0] === "vm" && parts[3] === "identity") await vmIdentityPage(parts[1], parts[2]);
    else if (parts[0] === "vm" && parts[3] === "iam") {
      const vm = await arm("GET", vmPath(parts[1], parts[2]), API.vm);
      await roleAssignmentsPage({ scope: vm.id, frame: (...c) => vmBlade(vm, parts[1], "iam", ...c) });
    } else if (parts[0] === "vm") await vmOverviewPage(parts[1], parts[2]);
    else if (parts[0] === "managedIdentities") await managedIdentitiesPage();
    else if (parts[0] === "keyVaults") await keyVaultsPage();
    else if (parts[0] === "keyvault" && parts[3] === "iam") {
      const vault = await arm("GET", vaultPath(parts[1], parts[2]), API.kv);
      await roleAssignmentsPage({ scope: vault.id, frame: (...c) => vaultBlade(vault, parts[1], "iam", ...c) });
    } else if (parts[0] === "keyvault") await vaultOverviewPage(parts[1], parts[2]);
    else if (parts[0] === "iam") await roleAssignmentsPage({ scope: params.get("scope") ?? subPath() });
    else if (parts[0] === "roleAssignments") await roleAssignmentsPage({ principalId: parts[1] });
    else await resourceGroupsPage();
  } catch (e) {
    page({ crumbs: [["Home", "#/"]], title: "Error" }, h("p", { role: "alert" }, e.message));
    notify("Failed to load", e.message, "error");
  }
  main.focus();
}

async function start() {
  const r = await fetch("/api/me", { credentials: "same-origin" });
  if (r.status === 401) {
    main.replaceChildren(h("div", { class: "landing" }, h("h1", {}, "Microsoft Azure (Mimic)"), h("p", {}, "Sign in to manage your resources."),
      h("a", { class: "btn primary", href: "/signin" }, "Sign in")));
    return;
  }
  me = await r.json();
  // Sign-out is a POST with the CSRF header, so no other page can sign the user out.
  const signOut = h("button", { type: "button", class: "link" }, "Sign out");
  signOut.addEventListener("click", async () => {
    const r = await fetch("/signout", { method: "POST", credentials: "same-origin", headers: { "X-Mimic-Portal": "1" }, redirect: "manual" });
    if (r.type === "opaqueredirect" || r.ok) location.assign("/");
    else notify("Sign-out failed", `HTTP ${r.status}`, "error");
  });
  document.getElementById("account").append(h("span", {}, me.userPrincipalName), signOut);
  document.getElementById("portal-nav").hidden = false;
  const subs = (await arm("GET", "/subscriptions", API.subs)).value;
  subscription = subs[0];
  if (!subscription) { main.replaceChildren(h("p", { role: "alert" }, "You have no subscriptions.")); return; }
  addEventListener("hashchange", route);
  await route();
}

start().catch((e) => notify("Failed to start the portal", e.message, "error"));
