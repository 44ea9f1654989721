//! The resource providers and how a request finds one. Each provider (compute, network, managed
//! identity, ...) implements [`Provider`]; the edge builds one [`Registry`] of them at start-up.
//! Providers never call one another: what one provider's change means for another's resources
//! (a resource group deleted, a VM attached to NICs, whether a VM runs) goes through the
//! registry's hooks, which ask every provider in registration order.
//!
//! There is one registry per process, installed by the edge before the first request
//! ([`Registry::install`]); handlers reach it with [`Registry::installed`], so the request context
//! need not carry it (and the context and the registry do not import each other).

use std::sync::OnceLock;

use axum::http::Method;
use mimic_domain::resource::Resource;
use mimic_store::Tx;

use super::api_versions;
use super::catalog::{Operations, ProviderInfo, ResourceType, LOCATIONS};
use super::ctx::Ctx;
use super::endpoint::Endpoint;
use super::error::{ArmError, ArmResult};
use super::reply::Reply;

/// A change to a virtual machine as other providers see it, inside the VM write's transaction.
pub enum VmEvent<'a> {
    /// Created or replaced: `before` is the stored VM before the write, if any.
    Written { before: Option<&'a Resource>, after: &'a Resource, running: bool },
    /// Deleted (directly or with its resource group).
    Deleted { vm: &'a Resource },
    /// Started (`running`) or stopped.
    Power { vm: &'a Resource, running: bool },
}

pub trait Provider: Send + Sync {
    /// The provider namespace served (`Microsoft.Compute`); `*` for the generic store that serves
    /// every namespace nobody else claims.
    fn namespace(&self) -> &'static str;

    /// The top-level resource types of the namespace served (case-insensitive); empty for all of
    /// them. A provider naming its types wins over one that takes the whole namespace.
    fn resource_types(&self) -> &'static [&'static str] {
        &[]
    }

    /// The resource types this provider registers in its namespace, with their api-versions
    /// (`GET /providers/{namespace}`; requests with other versions are refused as ARM does).
    fn registered_types(&self) -> &'static [ResourceType] {
        &[]
    }

    /// The operations of this provider's namespace (`GET /providers/{namespace}/operations`):
    /// the RBAC actions its handlers check, with Azure's display texts.
    fn operations(&self) -> Option<Operations> {
        None
    }

    /// Answers a request for this provider's namespace.
    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply>;

    /// Before the contents of resource group `rg` are deleted (inside that transaction): what
    /// this provider must undo beyond deleting its stored resources.
    fn before_group_delete(&self, _reg: &Registry, _tx: &mut dyn Tx, _sub: &str, _rg: &str) -> ArmResult<()> {
        Ok(())
    }

    /// Before resources move to another group (inside the transaction, which nothing has
    /// written yet; also for `validateMoveResources`): refuses what this provider cannot move.
    fn check_move(&self, _reg: &Registry, _tx: &mut dyn Tx, _moving: &[Moving]) -> ArmResult<()> {
        Ok(())
    }

    /// As resources move (inside the transaction, before their rows are rewritten): what this
    /// provider keeps under their old ids, beyond the rows and the references in them.
    fn on_move(&self, _reg: &Registry, _tx: &mut dyn Tx, _moving: &[Moving]) -> ArmResult<()> {
        Ok(())
    }

    /// After a VM changed (inside its transaction): what this provider's resources make of it.
    fn on_vm(&self, _reg: &Registry, _tx: &mut dyn Tx, _event: &VmEvent<'_>) -> ArmResult<()> {
        Ok(())
    }

    /// Whether the VM stored under `vm_key` is running, if this provider owns VMs.
    fn vm_running(&self, _tx: &mut dyn Tx, _vm_key: &str) -> ArmResult<Option<bool>> {
        Ok(None)
    }
}

/// A resource a move takes (a named one or a child of one): as stored, and its id once moved.
pub struct Moving {
    pub resource: Resource,
    pub new_id: String,
}

impl Moving {
    /// Whether this is a resource of `resource_type` (`Namespace/type`).
    pub fn is(&self, resource_type: &str) -> bool {
        self.resource.resource_type.eq_ignore_ascii_case(resource_type)
    }

    /// Refuses a move that leaves behind any of `needed` (resources the moved ones depend on, or
    /// that depend on them): Azure's `MissingMoveDependentResources`, naming them.
    pub fn require_all(moving: &[Moving], needed: impl IntoIterator<Item = String>) -> ArmResult<()> {
        let missing: Vec<String> = needed.into_iter().filter(|id| !moving.iter().any(|m| m.resource.id.eq_ignore_ascii_case(id))).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ArmError::missing_move_dependent_resources(&missing))
        }
    }

    /// Refuses a move that takes a resource of one of `types` (a provider's types it cannot
    /// move yet).
    pub fn refuse(moving: &[Moving], types: &[&str]) -> ArmResult<()> {
        match moving.iter().find(|m| types.iter().any(|t| m.is(t))) {
            Some(m) => Err(ArmError::resource_move_not_supported(&m.resource.resource_type)),
            None => Ok(()),
        }
    }
}

pub struct Registry {
    providers: Vec<Box<dyn Provider>>,
    /// The registered types of every namespace, gathered from the providers in order.
    catalog: Vec<ProviderInfo>,
}

static INSTALLED: OnceLock<Registry> = OnceLock::new();

impl Registry {
    /// Builds the process's registry on first call (later calls return the same one).
    pub fn install(build: fn() -> Registry) -> &'static Registry {
        INSTALLED.get_or_init(build)
    }

    /// The process's registry. Only a handler reached through the edge, which installs the
    /// registry before it serves or recovers anything, calls this.
    pub fn installed() -> &'static Registry {
        INSTALLED.get().expect("the ARM edge installs the provider registry before any handler runs")
    }

    /// Checks the api-version against the provider's registered list, or its shape for types
    /// Mimic stores generically.
    pub fn check_version(ctx: &Ctx, namespace: &str, type_path: &str, location: Option<&str>) -> ArmResult<()> {
        match Self::installed().resource_type(namespace, type_path) {
            Some(t) if !t.api_versions.iter().any(|v| v.eq_ignore_ascii_case(&ctx.api_version)) => Err(ArmError::no_registered_provider(
                location.unwrap_or("westus"),
                &ctx.api_version,
                &format!("{namespace}/{type_path}"),
                t.api_versions,
                &LOCATIONS.iter().map(|(_, d)| *d).collect::<Vec<_>>(),
            )),
            Some(_) => Ok(()),
            None => api_versions::check_generic(&ctx.api_version, &format!("{namespace}/{type_path}")),
        }
    }

    /// Registration order is the order hooks run in.
    pub fn new(providers: Vec<Box<dyn Provider>>) -> Self {
        let mut catalog: Vec<ProviderInfo> = Vec::new();
        for p in providers.iter().filter(|p| !p.registered_types().is_empty() || p.operations().is_some()) {
            let ops = p.operations().map(|o| {
                o.entries.iter().map(|e| super::catalog::Operation { provider: o.provider, origin: o.origin, ..*e }).collect::<Vec<_>>()
            });
            let i = match catalog.iter().position(|c| c.namespace.eq_ignore_ascii_case(p.namespace())) {
                Some(i) => i,
                None => {
                    catalog.push(ProviderInfo { namespace: p.namespace(), types: Vec::new(), operations: Vec::new() });
                    catalog.len() - 1
                }
            };
            let info = &mut catalog[i];
            info.types.extend_from_slice(p.registered_types());
            info.operations.extend(ops.unwrap_or_default());
        }
        Registry { providers, catalog }
    }

    /// Every registered namespace with its types.
    pub fn catalog(&self) -> &[ProviderInfo] {
        &self.catalog
    }

    /// The registered namespace `namespace` (case-insensitive).
    pub fn namespace(&self, namespace: &str) -> Option<&ProviderInfo> {
        self.catalog.iter().find(|p| p.namespace.eq_ignore_ascii_case(namespace))
    }

    /// The registered type `namespace/type` (children as `type/child`), if a provider registers it.
    pub fn resource_type(&self, namespace: &str, type_path: &str) -> Option<&ResourceType> {
        self.namespace(namespace)?.types.iter().find(|t| t.name.eq_ignore_ascii_case(type_path))
    }

    /// The provider that serves `endpoint`: the one naming its type, else the one taking its
    /// namespace, else the generic store.
    pub fn provider_for(&self, endpoint: &Endpoint) -> Option<&dyn Provider> {
        let ns = endpoint.namespace();
        let ty = endpoint.resource_type();
        let named = |p: &&dyn Provider| {
            p.namespace().eq_ignore_ascii_case(ns) && ty.is_some_and(|t| p.resource_types().iter().any(|x| x.eq_ignore_ascii_case(t)))
        };
        let whole = |p: &&dyn Provider| p.namespace().eq_ignore_ascii_case(ns) && p.resource_types().is_empty();
        let all = || self.providers.iter().map(|p| p.as_ref());
        all().find(named).or_else(|| all().find(whole)).or_else(|| all().find(|p| p.namespace() == "*"))
    }

    /// Answers `endpoint` with its provider: the one way into a handler, for requests from the
    /// network and for the calls a template deployment makes on its caller's behalf.
    pub fn dispatch(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        // Lists of one type: a caller with no access at or below the list's scope is refused,
        // as Azure does ('Microsoft.Network/networkSecurityGroups/read' over
        // '/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network', Azure/CloudShell#561);
        // the providers filter the items for everyone else.
        if let Endpoint::ResourceCollection { parent, namespace, resource_type } = endpoint {
            if ctx.method == Method::GET {
                let parent = parent.render();
                let scope = format!("{}/providers/{namespace}", parent.trim_end_matches('/'));
                let action = format!("{namespace}/{resource_type}/read");
                if !(ctx.allowed(&action, &scope)? || ctx.has_any_access_within(&parent)?) {
                    return Err(ArmError::authorization_failed(&ctx.caller.display(), &ctx.caller.object_id.to_string(), &action, &scope));
                }
            }
        }
        // Management locks, here so that no provider's write or delete goes past one.
        super::locks::enforce(ctx, endpoint)?;
        match self.provider_for(endpoint) {
            Some(p) => p.handle(ctx, endpoint),
            None => Err(ArmError::not_found_route(&ctx.path)),
        }
    }

    pub fn before_group_delete(&self, tx: &mut dyn Tx, sub: &str, rg: &str) -> ArmResult<()> {
        self.providers.iter().try_for_each(|p| p.before_group_delete(self, tx, sub, rg))
    }

    pub fn check_move(&self, tx: &mut dyn Tx, moving: &[Moving]) -> ArmResult<()> {
        self.providers.iter().try_for_each(|p| p.check_move(self, tx, moving))
    }

    pub fn on_move(&self, tx: &mut dyn Tx, moving: &[Moving]) -> ArmResult<()> {
        self.providers.iter().try_for_each(|p| p.on_move(self, tx, moving))
    }

    pub fn on_vm(&self, tx: &mut dyn Tx, event: &VmEvent<'_>) -> ArmResult<()> {
        self.providers.iter().try_for_each(|p| p.on_vm(self, tx, event))
    }

    /// Whether the VM under `vm_key` exists and runs.
    pub fn vm_running(&self, tx: &mut dyn Tx, vm_key: &str) -> ArmResult<bool> {
        for p in &self.providers {
            if let Some(running) = p.vm_running(tx, vm_key)? {
                return Ok(running);
            }
        }
        Ok(false)
    }
}
