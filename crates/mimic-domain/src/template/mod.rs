//! ARM templates, free of HTTP, read by Json.NET's reader (`mimic_wire::jsonnet`): the expression
//! language ([`expr`], [`eval`]), Azure's exact `uniqueString()`/`guid()` ([`hash`]), and the
//! template model a deployment validates and runs ([`engine`]). The ARM surface
//! (`mimic-server/src/arm/providers/deployments.rs`) supplies the [`eval::Host`] that reads deployed
//! resources for `reference()` and runs each resource through the normal ARM handlers.

pub mod engine;
pub mod eval;
pub mod export;
pub mod expr;
pub mod hash;

pub use engine::{BoundParam, Planned, Prepared, Template, TemplateError};
pub use eval::{EvalError, Evaluator, Host, Scope};
