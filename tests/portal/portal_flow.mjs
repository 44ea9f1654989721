// Drives Debian's Chromium through Mimic's portal with playwright-core, one seed scenario per run,
// using only accessible roles and names (what a person reads on the page), as the seeds word them.
//
//   node portal_flow.mjs '{"portal": "...", "username": "...", "password": "...", "action": "enable_system",
//                          "rg": "...", "vm": "...", "identity": "...", "vault": "...", "role": "...",
//                          "shots": "artifacts/portal", "spki": ["..."]}'
//
// Prints one JSON line with what the page showed. Screenshots of each blade state go to `shots`.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = JSON.parse(process.argv[2]);
const shots = args.shots;
mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), "mimic-chromium-"));
const TIMEOUT = 20000;

// Mimic's CA is trusted by pinning the server certificate's public key (SPKI hash), so every
// other certificate error still fails the test.
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.MIMIC_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", `--ignore-certificate-errors-spki-list=${args.spki.join(",")}`],
  viewport: { width: 1400, height: 900 },
});
context.setDefaultTimeout(TIMEOUT);
const page = context.pages()[0] ?? (await context.newPage());
const shot = (name) => page.screenshot({ path: join(shots, `${args.action}-${name}.png`) });
const out = {};

async function signIn() {
  await page.goto(args.portal + "/");
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Email, phone, or Skype").fill(args.username);
  await page.getByLabel("Password").fill(args.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Portal menu" }).waitFor();
}

/** Seed step "Navigate to the desired Virtual Machine and in the Security section select Identity". */
async function openIdentity() {
  await page.getByRole("navigation", { name: "Portal menu" }).getByRole("link", { name: "Virtual machines" }).click();
  await page.getByRole("table", { name: "Virtual machines" }).getByRole("link", { name: args.vm, exact: true }).click();
  await page.getByRole("navigation", { name: "Resource menu" }).getByRole("link", { name: "Identity" }).click();
  await page.getByRole("heading", { name: `${args.vm} | Identity` }).waitFor();
}

const notification = (text) => page.getByRole("status").filter({ hasText: text }).first().waitFor();
const errorAlert = () => page.getByRole("alert").first();

async function setSystemAssigned(on) {
  await page.getByRole("tab", { name: "System assigned" }).click();
  const status = page.getByRole("radiogroup", { name: "Status" });
  await status.getByRole("radio", { name: on ? "On" : "Off" }).check();
  await shot(`status-${on ? "on" : "off"}-selected`);
  await page.getByRole("button", { name: "Save" }).click();
  const dialog = page.getByRole("dialog", { name: on ? "Enable system assigned managed identity" : "Disable system assigned managed identity" });
  await dialog.waitFor();
  await shot("confirmation");
  await dialog.getByRole("button", { name: "Yes" }).click();
}

async function userAssignedNames() {
  const grid = page.getByRole("tabpanel", { name: "User assigned" }).getByRole("grid", { name: "User assigned managed identities" });
  if (!(await grid.count())) return [];
  return grid.locator("tbody tr td:nth-child(2)").allInnerTexts();
}

try {
  await signIn();
  await shot("signed-in");
  switch (args.action) {
    case "enable_system": {
      await openIdentity();
      out.readOnlyNote = await page.getByRole("note").filter({ hasText: "read-only access" }).isVisible();
      await shot("before");
      await setSystemAssigned(true);
      await notification("Successfully updated system assigned managed identity");
      const id = page.locator("#principal-id");
      await id.waitFor();
      await page.getByRole("button", { name: "Azure role assignments" }).waitFor();
      out.principalId = (await id.innerText()).trim();
      out.objectIdLabel = await page.getByText("Object (principal) ID", { exact: true }).isVisible();
      await shot("after");
      break;
    }
    case "disable_system": {
      await openIdentity();
      await setSystemAssigned(false);
      await notification("Successfully updated system assigned managed identity");
      await page.getByText("Object (principal) ID", { exact: true }).waitFor({ state: "detached" });
      out.status = (await page.getByRole("radio", { name: "Off" }).isChecked()) ? "Off" : "On";
      out.principalShown = await page.locator("#principal-id").count() > 0;
      await shot("after");
      break;
    }
    case "add_user": {
      await openIdentity();
      await page.getByRole("tab", { name: "User assigned" }).click();
      await page.getByRole("button", { name: "+ Add" }).click();
      const panel = page.getByRole("dialog", { name: "Add user assigned managed identity" });
      await panel.getByRole("checkbox", { name: args.identity, exact: true }).check();
      await shot("picker");
      await panel.getByRole("button", { name: "Add", exact: true }).click();
      await notification("Successfully added user assigned managed identities");
      await page.getByRole("checkbox", { name: args.identity, exact: true }).waitFor();
      out.userAssigned = await userAssignedNames();
      await shot("after");
      break;
    }
    case "remove_user": {
      await openIdentity();
      await page.getByRole("tab", { name: "User assigned" }).click();
      await page.getByRole("checkbox", { name: args.identity, exact: true }).check();
      await page.getByRole("button", { name: "Remove" }).click();
      const dialog = page.getByRole("dialog", { name: "Remove user assigned managed identities" });
      await shot("confirmation");
      await dialog.getByRole("button", { name: "Yes" }).click();
      await notification("Successfully removed user assigned managed identities");
      await page.getByRole("checkbox", { name: args.identity, exact: true }).waitFor({ state: "detached" });
      out.userAssigned = await userAssignedNames();
      await shot("after");
      break;
    }
    case "create_vm": {
      await page.getByRole("navigation", { name: "Portal menu" }).getByRole("link", { name: "Virtual machines" }).click();
      await page.getByRole("button", { name: "+ Create" }).click();
      await page.getByLabel("Resource group").selectOption(args.rg);
      await page.getByLabel("Virtual machine name").fill(args.vm);
      await page.getByLabel("Password").fill("Portal-Passw0rd!");
      await shot("basics");
      // Seed 003: "select the Management tab. In the Identity section, select the Enable system
      // assigned managed identity check-box."
      await page.getByRole("tab", { name: "Management" }).click();
      await page.getByRole("checkbox", { name: "Enable system assigned managed identity" }).check();
      await shot("management");
      await page.getByRole("tab", { name: "Review + create" }).click();
      await shot("review");
      await page.getByRole("button", { name: "Create", exact: true }).click();
      await notification("Your deployment is complete");
      await page.getByRole("heading", { name: args.vm, exact: true }).waitFor();
      await page.getByRole("navigation", { name: "Resource menu" }).getByRole("link", { name: "Identity" }).click();
      const id = page.locator("#principal-id");
      await id.waitFor();
      out.status = (await page.getByRole("radio", { name: "On" }).isChecked()) ? "On" : "Off";
      out.principalId = (await id.innerText()).trim();
      await shot("identity");
      break;
    }
    case "reader_save": {
      await openIdentity();
      out.readOnlyNote = await page.getByRole("note").filter({ hasText: "read-only access" }).isVisible();
      await setSystemAssigned(true);
      const alert = errorAlert();
      await alert.waitFor();
      out.error = (await alert.innerText()).trim();
      out.principalShown = await page.locator("#principal-id").count() > 0;
      await shot("authorization-failed");
      break;
    }
    case "vault_access": {
      // "Give the VM access" on a key vault: Key vaults > the vault (its Overview) > Access control
      // (IAM) > + Add > Add role assignment: the role, Assign access to: Managed identity, Virtual
      // machine, the VM by its name, Save.
      await page.getByRole("navigation", { name: "Portal menu" }).getByRole("link", { name: "Key vaults" }).click();
      await page.getByRole("table", { name: "Key vaults" }).getByRole("link", { name: args.vault, exact: true }).click();
      await page.getByRole("heading", { name: args.vault, exact: true }).waitFor();
      await page.getByRole("heading", { name: "Essentials" }).waitFor();
      const terms = await page.getByRole("term").allInnerTexts();
      const values = await page.getByRole("definition").allInnerTexts();
      out.essentials = Object.fromEntries(terms.map((t, i) => [t.trim(), (values[i] ?? "").trim()]));
      await shot("overview");
      await page.getByRole("navigation", { name: "Resource menu" }).getByRole("link", { name: "Access control (IAM)" }).click();
      await page.getByRole("heading", { name: `${args.vault} | Access control (IAM)` }).waitFor();
      await page.getByRole("toolbar", { name: "Role assignment commands" }).getByRole("button", { name: "+ Add" }).click();
      const panel = page.getByRole("dialog", { name: "Add role assignment" });
      await panel.getByRole("combobox", { name: "Role", exact: true }).selectOption({ label: args.role });
      await panel.getByRole("radiogroup", { name: "Assign access to" }).getByRole("radio", { name: "Managed identity" }).check();
      await panel.getByRole("combobox", { name: "Managed identity", exact: true }).selectOption({ label: "Virtual machine" });
      await panel.getByRole("combobox", { name: "Member", exact: true }).selectOption({ label: args.vm });
      await shot("add-role-assignment");
      await panel.getByRole("button", { name: "Save" }).click();
      await notification("Added role assignment");
      await panel.waitFor({ state: "detached" });
      const grid = page.getByRole("grid", { name: "Role assignments" });
      await grid.getByRole("row").filter({ hasText: args.role }).first().waitFor();
      out.assignments = await grid.locator("tbody tr").evaluateAll((rows) => rows.map((r) => {
        const [, role, principal, type, scope] = [...r.cells].map((c) => c.innerText.trim());
        return { role, principal, type, scope };
      }));
      await shot("after");
      break;
    }
    case "sign_out": {
      // The account menu's button POSTs /signout with the CSRF header; the landing page follows,
      // and a reload finds no session.
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("link", { name: "Sign in" }).waitFor();
      await page.reload();
      await page.getByRole("link", { name: "Sign in" }).waitFor();
      out.signedOut = (await page.getByRole("navigation", { name: "Portal menu" }).isVisible()) === false;
      await shot("signed-out");
      break;
    }
    default:
      throw new Error(`unknown action ${args.action}`);
  }
  console.log(JSON.stringify(out));
} catch (e) {
  await shot("failure").catch(() => {});
  console.error(e.stack ?? String(e));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
