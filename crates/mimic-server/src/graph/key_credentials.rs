//! An application's certificates (`keyCredentials`): written as a whole list on POST/PATCH of the
//! application (`az ad sp create-for-rbac --create-cert`, `az ad app credential reset --cert`),
//! or one at a time by `addKey`/`removeKey`, which prove possession of a current certificate
//! (application-addkey). Entra's rules are `mimic_domain::certificate`'s; the token service
//! verifies client assertions against the stored list (`login/certificate.rs`).

use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use mimic_domain::certificate::{self, KeyCredential, KeyCredentialError, KeyCredentialInput, ProofError};
use mimic_domain::directory::{DirectoryAction, DirectoryObject};
use mimic_wire::graph as wire;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::ctx::{parse_id, parse_time, Ctx};
use super::error::{GraphError, GraphResult};

/// How Graph renders a credential; `key` only in `addKey`'s answer.
pub fn render(c: &KeyCredential, with_key: bool) -> wire::KeyCredential {
    wire::KeyCredential {
        custom_key_identifier: c.custom_key_identifier.clone(),
        display_name: c.display_name.clone(),
        end_date_time: super::objects::time(c.end),
        key: with_key.then(|| c.key.clone()),
        key_id: c.key_id.to_string(),
        start_date_time: super::objects::time(c.start),
        key_type: certificate::KEY_TYPE,
        usage: certificate::KEY_USAGE,
    }
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

/// `POST /applications/{id}/addKey` `{keyCredential, passwordCredential, proof}` → 200 with the
/// new credential.
pub fn add_key(ctx: &Ctx, id: Uuid) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let req: wire::AddKeyRequest = ctx.json()?;
    if req.password_credential.as_ref().is_some_and(|p| !p.is_null()) {
        return Err(GraphError::bad_request("Keys with a password (X509CertAndPassword) are not modelled by Mimic."));
    }
    let new = certificate::new_key_credential(input(req.key_credential)?).map_err(refusal)?;
    write(ctx, id, &req.proof, |held| {
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
    if let Value::Object(m) = serde_json::to_value(render(&new, true)).expect("serializes") {
        out.extend(m);
    }
    Ok(ctx.respond(StatusCode::OK, Value::Object(out)))
}

/// `POST /applications/{id}/removeKey` `{keyId, proof}` → 204.
pub fn remove_key(ctx: &Ctx, id: Uuid) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let req: wire::RemoveKeyRequest = ctx.json()?;
    let key = parse_id(&req.key_id)?;
    write(ctx, id, &req.proof, |held| {
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

/// Changes the application's credentials once `proof` verifies against those it holds, read in
/// the same transaction (`change` may run again when the store retries it).
fn write(ctx: &Ctx, id: Uuid, proof: &str, change: impl Fn(&mut Vec<KeyCredential>) -> GraphResult<()>) -> GraphResult<()> {
    let tenant = ctx.tenant_id();
    ctx.state.store.write(|tx| {
        let Some(DirectoryObject::Application(mut app)) = tx.directory_object(tenant, id)? else {
            return Err(GraphError::not_found(&id.to_string()));
        };
        certificate::verify_proof(&app.key_credentials, proof, app.id, Utc::now()).map_err(proof_refusal)?;
        change(&mut app.key_credentials)?;
        tx.put_directory_object(&DirectoryObject::Application(app))?;
        Ok(())
    })
}
