//! The credentials of applications and of their service principals: secrets (`addPassword`
//! returns the `secretText` once; only its salted hash is kept) and certificates
//! (`keyCredentials`, written as a whole list on POST/PATCH — `az ad sp create-for-rbac
//! --create-cert`, `az ad app credential reset --cert` — or one at a time by `addKey`/`removeKey`,
//! which prove possession of a current certificate: application-addkey). Entra's rules are
//! `mimic_domain::certificate`'s; the token service checks secrets and client assertions against
//! both objects' lists (`login/token.rs`, `login/certificate.rs`).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use chrono::Utc;
use mimic_domain::certificate::{self, KeyCredential, KeyCredentialError, KeyCredentialInput, ProofError};
use mimic_domain::directory::{self, DirectoryAction, DirectoryObject, PasswordCredential};
use mimic_wire::graph as wire;
use serde_json::{Map, Value};

use super::ctx::{parse_id, parse_time, Ctx};
use super::error::{GraphError, GraphResult};

/// `addPassword`, `removePassword`, `addKey`, `removeKey` on an application or service
/// principal; `None` for any other segment.
pub fn action(ctx: &Ctx, obj: &DirectoryObject, segment: &str) -> Option<GraphResult<Response>> {
    let run: fn(&Ctx, &DirectoryObject) -> GraphResult<Response> = match segment.to_ascii_lowercase().as_str() {
        "addpassword" => add_password,
        "removepassword" => remove_password,
        "addkey" => add_key,
        "removekey" => remove_key,
        _ => return None,
    };
    Some(if ctx.method == Method::POST { run(ctx, obj) } else { Err(GraphError::method_not_allowed()) })
}

/// The list a `keyCredentials` property sets, given what the application holds.
pub fn replace(held: &[KeyCredential], value: &Value) -> GraphResult<Vec<KeyCredential>> {
    let inputs: Vec<wire::KeyCredentialInput> = match value {
        Value::Null => vec![],
        v => serde_json::from_value(v.clone()).map_err(|_| GraphError::invalid_value("keyCredentials", "Application"))?,
    };
    let inputs = inputs.into_iter().map(input).collect::<GraphResult<Vec<_>>>()?;
    certificate::replace_key_credentials(held, inputs).map_err(refusal)
}

fn input(w: wire::KeyCredentialInput) -> GraphResult<KeyCredentialInput> {
    let time = |s: Option<String>, field: &str| parse_time(s.as_deref(), field);
    Ok(KeyCredentialInput {
        key_id: w.key_id.as_deref().map(parse_id).transpose()?,
        display_name: w.display_name,
        custom_key_identifier: w.custom_key_identifier,
        key: w.key,
        key_type: w.key_type,
        usage: w.usage,
        start: time(w.start_date_time, "startDateTime")?,
        end: time(w.end_date_time, "endDateTime")?,
    })
}

/// Graph's refusals of a credential. Codes and texts as public reports quote them where they do
/// (`KeyCredentialsInvalidEndDate`, the `usage` text); the rest are unverified.
fn refusal(e: KeyCredentialError) -> GraphError {
    let bad = |code: &str, message: String| GraphError::new(StatusCode::BAD_REQUEST, code, message);
    match e {
        KeyCredentialError::MissingKey => bad("KeyCredentialsInvalidValue", "KeyValue cannot be null or empty".into()),
        KeyCredentialError::InvalidKey(certificate::CertificateError::Invalid) => {
            bad("KeyCredentialsInvalidValue", "Key value is invalid certificate".into())
        }
        KeyCredentialError::InvalidKey(certificate::CertificateError::NotRsa) => {
            bad("KeyCredentialsInvalidValue", "Key value is invalid certificate: only RSA keys are supported".into())
        }
        KeyCredentialError::Type(_) => bad(
            "Request_BadRequest",
            "The value for the property \"type\" in one of your credentials is invalid. Acceptable values are AsymmetricX509Cert, X509CertAndPassword.".into(),
        ),
        KeyCredentialError::Usage(u) if u == "Sign" => {
            bad("Request_BadRequest", "Signing keys (usage \"Sign\") are not modelled by Mimic: only \"Verify\" certificates.".into())
        }
        KeyCredentialError::Usage(_) => bad(
            "Request_BadRequest",
            "The value for the property \"usage\" in one of your credentials is invalid. Acceptable values are Sign, Verify.".into(),
        ),
        KeyCredentialError::StartDate => bad("KeyCredentialsInvalidStartDate", "Key credential start date is invalid.".into()),
        KeyCredentialError::EndDate => bad("KeyCredentialsInvalidEndDate", "Key credential end date is invalid.".into()),
        KeyCredentialError::DuplicateKeyId(id) => bad("Request_BadRequest", format!("The keyId '{id}' is used by more than one credential.")),
        KeyCredentialError::TooMany => bad(
            "Request_BadRequest",
            format!("An application holds at most {} key credentials.", certificate::MAX_KEY_CREDENTIALS),
        ),
    }
}

fn proof_refusal(e: ProofError) -> GraphError {
    // Unverified texts: Graph answers 400 to a bad proof.
    GraphError::bad_request(match e {
        ProofError::Malformed => "The proof is not a valid JWT.",
        ProofError::Signature => "The proof must be signed with the private key of one of the application's current certificates.",
        ProofError::Claims => "The proof's aud must be 00000002-0000-0000-c000-000000000000, its iss the application's id, and it must be within its lifetime.",
    })
}

/// `POST .../addKey` `{keyCredential, passwordCredential, proof}` → 200 with the new credential.
fn add_key(ctx: &Ctx, obj: &DirectoryObject) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let req: wire::AddKeyRequest = ctx.json()?;
    if req.password_credential.as_ref().is_some_and(|p| !p.is_null()) {
        return Err(GraphError::bad_request("Keys with a password (X509CertAndPassword) are not modelled by Mimic."));
    }
    let new = certificate::new_key_credential(input(req.key_credential)?).map_err(refusal)?;
    with_proof(ctx, obj, &req.proof, |held| {
        if held.iter().any(|c| c.key_id == new.key_id) {
            return Err(refusal(KeyCredentialError::DuplicateKeyId(new.key_id)));
        }
        if held.len() >= certificate::MAX_KEY_CREDENTIALS {
            return Err(refusal(KeyCredentialError::TooMany));
        }
        held.push(new.clone());
        Ok(())
    })?;
    let mut out = Map::new();
    out.insert("@odata.context".into(), Value::String(ctx.context_url("microsoft.graph.keyCredential")));
    if let Value::Object(m) = serde_json::to_value(super::objects::key_credential(&new, true)).expect("serializes") {
        out.extend(m);
    }
    Ok(ctx.respond(StatusCode::OK, Value::Object(out)))
}

/// `POST .../removeKey` `{keyId, proof}` → 204.
fn remove_key(ctx: &Ctx, obj: &DirectoryObject) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let req: wire::RemoveKeyRequest = ctx.json()?;
    let key = parse_id(&req.key_id)?;
    with_proof(ctx, obj, &req.proof, |held| {
        let before = held.len();
        held.retain(|c| c.key_id != key);
        if held.len() == before {
            // Unverified text.
            return Err(GraphError::bad_request(format!("No key credential found with keyId '{key}'.")));
        }
        Ok(())
    })?;
    Ok(ctx.no_content())
}

/// Changes the object's certificates once `proof` verifies against those it holds, read in the
/// same transaction (`change` may run again when the store retries it). The proof's `iss` is the
/// object's id.
fn with_proof(
    ctx: &Ctx,
    obj: &DirectoryObject,
    proof: &str,
    change: impl Fn(&mut Vec<KeyCredential>) -> GraphResult<()>,
) -> GraphResult<()> {
    let id = obj.id();
    update(ctx, obj, |_, keys| {
        certificate::verify_proof(keys, proof, id, Utc::now()).map_err(proof_refusal)?;
        change(keys)
    })
}

/// Reads the object afresh in a write transaction, changes its credentials and stores it.
fn update(
    ctx: &Ctx,
    obj: &DirectoryObject,
    change: impl Fn(&mut Vec<PasswordCredential>, &mut Vec<KeyCredential>) -> GraphResult<()>,
) -> GraphResult<()> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let (tenant, id) = (ctx.tenant_id(), obj.id());
    ctx.state.store.write(|tx| {
        let mut fresh =
            tx.directory_object(tenant, id)?.filter(|o| o.kind() == obj.kind()).ok_or_else(|| GraphError::not_found(&id.to_string()))?;
        let (passwords, keys) = fresh.credentials_mut().ok_or_else(managed_by_azure)?;
        change(passwords, keys)?;
        tx.put_directory_object(&fresh)?;
        Ok(())
    })
}

/// A managed identity's credentials are Azure's (unverified text).
fn managed_by_azure() -> GraphError {
    GraphError::bad_request("The credentials of a managed identity's service principal are managed by Azure and cannot be changed.")
}

/// `POST .../addPassword` (application-addpassword, serviceprincipal-addpassword): a new secret,
/// returned once in `secretText`. Default lifetime two years, as Graph's.
fn add_password(ctx: &Ctx, obj: &DirectoryObject) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let req: wire::AddPasswordRequest = if ctx.body.is_empty() { Default::default() } else { ctx.json()? };
    let input = req.password_credential.unwrap_or_default();
    let now = Utc::now();
    let start = parse_time(input.start_date_time.as_deref(), "startDateTime")?;
    let end = parse_time(input.end_date_time.as_deref(), "endDateTime")?;
    let (mut cred, secret) = directory::new_password_credential(input.display_name, now, 2);
    if let Some(s) = start {
        cred.start = s;
    }
    if let Some(e) = end {
        cred.end = e;
    }
    if cred.end <= cred.start {
        return Err(GraphError::bad_request("Key credential end date is invalid."));
    }
    update(ctx, obj, |passwords, _| {
        passwords.push(cred.clone());
        Ok(())
    })?;
    let mut out = Map::new();
    out.insert("@odata.context".into(), Value::String(ctx.context_url("microsoft.graph.passwordCredential")));
    if let Value::Object(m) = serde_json::to_value(super::objects::password_credential(&cred, Some(secret))).expect("serializes") {
        out.extend(m);
    }
    Ok(ctx.respond(StatusCode::OK, Value::Object(out)))
}

/// `POST .../removePassword` `{"keyId"}` → 204.
fn remove_password(ctx: &Ctx, obj: &DirectoryObject) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let req: wire::RemovePasswordRequest = ctx.json()?;
    let key = parse_id(&req.key_id)?;
    update(ctx, obj, |passwords, _| {
        let before = passwords.len();
        passwords.retain(|c| c.key_id != key);
        if passwords.len() == before {
            // Unverified text.
            return Err(GraphError::bad_request(format!("No password credential found with keyId '{key}'.")));
        }
        Ok(())
    })?;
    Ok(ctx.no_content())
}
