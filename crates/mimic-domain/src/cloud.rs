//! The cloud a Mimic describes to its clients, in one place: its own surfaces' addresses, ARM's
//! token audiences, and Azure's public-cloud values for the services Mimic does not emulate.
//! Two documents render it: ARM's `GET /metadata/endpoints` (what `az cloud register` and the
//! SDKs read) and the value of the template function `environment()`. Their shapes are Azure's
//! and differ (member names, order, which members exist); the facts are here, so an endpoint is
//! added once and each document decides whether it lists it.

use serde_json::{json, Map, Value};

/// The token audiences ARM accepts, in the order `/metadata/endpoints` lists them. A token for
/// either (with or without the trailing `/`) is good for ARM; so is one for Mimic's own ARM
/// address, which is per server and not listed here.
pub const ARM_AUDIENCES: [&str; 2] = ["https://management.core.windows.net/", "https://management.azure.com/"];

/// Azure AD Graph's audience (`graphAudience`), still listed by both documents.
pub const AAD_GRAPH_AUDIENCE: &str = "https://graph.windows.net/";
pub const BATCH: &str = "https://batch.core.windows.net/";
pub const SQL_MANAGEMENT: &str = "https://management.core.windows.net:8443/";
pub const DATA_LAKE: &str = "https://datalake.azure.net/";
/// Media Services and the gallery: `environment()` names Azure's; `/metadata/endpoints` has
/// always served them empty (Mimic serves neither).
pub const MEDIA: &str = "https://rest.media.azure.net";
pub const GALLERY: &str = "https://gallery.azure.com/";

/// A DNS suffix of the public cloud, under its name in each document.
pub struct Suffix {
    /// The member in `/metadata/endpoints`' `suffixes`.
    pub metadata: &'static str,
    /// The member in `environment().suffixes`, if the template function lists it.
    pub template: Option<&'static str>,
    /// Without a leading dot.
    pub value: &'static str,
    /// Whether `environment()` writes it with a leading dot (`.vault.azure.net`), as ARM does.
    pub template_dot: bool,
}

const fn suffix(metadata: &'static str, template: Option<&'static str>, value: &'static str, template_dot: bool) -> Suffix {
    Suffix { metadata, template, value, template_dot }
}

/// In `/metadata/endpoints`' order; `environment()` lists its members sorted by name.
pub const SUFFIXES: &[Suffix] = &[
    suffix("azureDataLakeStoreFileSystem", Some("azureDatalakeStoreFileSystem"), "azuredatalakestore.net", false),
    suffix("acrLoginServer", Some("acrLoginServer"), "azurecr.io", true),
    suffix("sqlServerHostname", Some("sqlServerHostname"), "database.windows.net", true),
    suffix("azureDataLakeAnalyticsCatalogAndJob", Some("azureDatalakeAnalyticsCatalogAndJob"), "azuredatalakeanalytics.net", false),
    suffix("keyVaultDns", Some("keyvaultDns"), "vault.azure.net", true),
    suffix("storage", Some("storage"), "core.windows.net", false),
    suffix("azureFrontDoorEndpointSuffix", Some("azureFrontDoorEndpointSuffix"), "azurefd.net", false),
    suffix("storageSyncEndpointSuffix", None, "afs.azure.net", false),
    suffix("mhsmDns", None, "managedhsm.azure.net", false),
    suffix("mysqlServerEndpoint", None, "mysql.database.azure.com", false),
    suffix("postgresqlServerEndpoint", None, "postgres.database.azure.com", false),
    suffix("mariadbServerEndpoint", None, "mariadb.database.azure.com", false),
    suffix("synapseAnalytics", None, "dev.azuresynapse.net", false),
    suffix("attestationEndpoint", None, "attest.azure.net", false),
];

/// Resource ids `/metadata/endpoints` lists for the data-plane services, in its order.
pub const RESOURCE_IDS: &[(&str, &str)] = &[
    ("appInsightsResourceId", "https://api.applicationinsights.io"),
    ("appInsightsTelemetryChannelResourceId", "https://dc.applicationinsights.azure.com/v2/track"),
    ("attestationResourceId", "https://attest.azure.net"),
    ("synapseAnalyticsResourceId", "https://dev.azuresynapse.net"),
    ("logAnalyticsResourceId", "https://api.loganalytics.io"),
    ("ossrDbmsResourceId", "https://ossrdbms-aad.database.windows.net"),
];

/// Mimic's own surfaces, as base URLs without a trailing `/`.
#[derive(Debug, Clone, Copy)]
pub struct CloudEnvironment<'a> {
    pub resource_manager: &'a str,
    pub login: &'a str,
    pub graph: &'a str,
    pub portal: &'a str,
}

impl CloudEnvironment<'_> {
    /// Where az finds VM image aliases (Mimic serves the document on ARM).
    pub fn vm_image_alias_doc(&self) -> String {
        format!("{}/mimic/vm-image-aliases", self.resource_manager)
    }

    /// The `authentication` member both documents share.
    fn authentication(&self) -> Value {
        json!({
            "loginEndpoint": format!("{}/", self.login),
            "audiences": ARM_AUDIENCES,
            "tenant": "common",
            "identityProvider": "AAD",
        })
    }

    /// `GET /metadata/endpoints?api-version=2015-01-01`: the legacy shape.
    pub fn metadata_endpoints_legacy(&self) -> Value {
        json!({
            "galleryEndpoint": "",
            "graphEndpoint": format!("{}/", self.graph),
            "portalEndpoint": format!("{}/", self.portal),
            "authentication": {
                "loginEndpoint": format!("{}/", self.login),
                "audiences": ARM_AUDIENCES,
            },
        })
    }

    /// `GET /metadata/endpoints` (any other api-version): the cloud named `Mimic`.
    pub fn metadata_endpoints(&self) -> Value {
        let suffixes: Map<String, Value> = SUFFIXES.iter().map(|s| (s.metadata.to_string(), s.value.into())).collect();
        let mut doc = json!({
            "portal": self.portal,
            "authentication": self.authentication(),
            "media": "",
            "graphAudience": AAD_GRAPH_AUDIENCE,
            "graph": format!("{}/", self.graph),
            "name": "Mimic",
            "suffixes": suffixes,
            "batch": BATCH,
            "resourceManager": format!("{}/", self.resource_manager),
            "vmImageAliasDoc": self.vm_image_alias_doc(),
            "activeDirectoryDataLake": DATA_LAKE,
            "sqlManagement": SQL_MANAGEMENT,
            "microsoftGraphResourceId": format!("{}/", self.graph),
        });
        let m = doc.as_object_mut().expect("an object");
        for (k, v) in RESOURCE_IDS {
            m.insert(k.to_string(), (*v).into());
        }
        doc
    }

    /// The value of the template function `environment()`: named `AzureCloud`, as templates
    /// test it to pick public-cloud behaviour.
    pub fn template_environment(&self) -> Value {
        let mut listed: Vec<(&str, String)> = SUFFIXES
            .iter()
            .filter_map(|s| s.template.map(|k| (k, if s.template_dot { format!(".{}", s.value) } else { s.value.to_string() })))
            .collect();
        listed.sort_by(|a, b| a.0.cmp(b.0));
        let suffixes: Map<String, Value> = listed.into_iter().map(|(k, v)| (k.to_string(), v.into())).collect();
        json!({
            "name": "AzureCloud",
            "gallery": GALLERY,
            "graph": format!("{}/", self.graph),
            "portal": self.portal,
            "graphAudience": AAD_GRAPH_AUDIENCE,
            "activeDirectoryDataLake": DATA_LAKE,
            "batch": BATCH,
            "media": MEDIA,
            "sqlManagement": SQL_MANAGEMENT,
            "vmImageAliasDoc": self.vm_image_alias_doc(),
            "resourceManager": format!("{}/", self.resource_manager),
            "authentication": self.authentication(),
            "suffixes": suffixes,
        })
    }
}

/// ARM's message for a token with another audience: each audience with and without its `/`.
pub fn arm_allowed_audiences_text() -> String {
    ARM_AUDIENCES.iter().flat_map(|a| [*a, a.trim_end_matches('/')]).map(|a| format!("'{a}'")).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOUD: CloudEnvironment = CloudEnvironment {
        resource_manager: "https://127.0.0.1:1",
        login: "https://127.0.0.1:2",
        graph: "https://127.0.0.1:3",
        portal: "https://127.0.0.1:4",
    };

    /// The documents as Mimic served them before they were built from one description, byte for
    /// byte (member order included).
    #[test]
    fn metadata_endpoints_is_unchanged() {
        let want = r#"{"portal":"https://127.0.0.1:4","authentication":{"loginEndpoint":"https://127.0.0.1:2/","audiences":["https://management.core.windows.net/","https://management.azure.com/"],"tenant":"common","identityProvider":"AAD"},"media":"","graphAudience":"https://graph.windows.net/","graph":"https://127.0.0.1:3/","name":"Mimic","suffixes":{"azureDataLakeStoreFileSystem":"azuredatalakestore.net","acrLoginServer":"azurecr.io","sqlServerHostname":"database.windows.net","azureDataLakeAnalyticsCatalogAndJob":"azuredatalakeanalytics.net","keyVaultDns":"vault.azure.net","storage":"core.windows.net","azureFrontDoorEndpointSuffix":"azurefd.net","storageSyncEndpointSuffix":"afs.azure.net","mhsmDns":"managedhsm.azure.net","mysqlServerEndpoint":"mysql.database.azure.com","postgresqlServerEndpoint":"postgres.database.azure.com","mariadbServerEndpoint":"mariadb.database.azure.com","synapseAnalytics":"dev.azuresynapse.net","attestationEndpoint":"attest.azure.net"},"batch":"https://batch.core.windows.net/","resourceManager":"https://127.0.0.1:1/","vmImageAliasDoc":"https://127.0.0.1:1/mimic/vm-image-aliases","activeDirectoryDataLake":"https://datalake.azure.net/","sqlManagement":"https://management.core.windows.net:8443/","microsoftGraphResourceId":"https://127.0.0.1:3/","appInsightsResourceId":"https://api.applicationinsights.io","appInsightsTelemetryChannelResourceId":"https://dc.applicationinsights.azure.com/v2/track","attestationResourceId":"https://attest.azure.net","synapseAnalyticsResourceId":"https://dev.azuresynapse.net","logAnalyticsResourceId":"https://api.loganalytics.io","ossrDbmsResourceId":"https://ossrdbms-aad.database.windows.net"}"#;
        assert_eq!(serde_json::to_string(&CLOUD.metadata_endpoints()).unwrap(), want);
        let legacy = r#"{"galleryEndpoint":"","graphEndpoint":"https://127.0.0.1:3/","portalEndpoint":"https://127.0.0.1:4/","authentication":{"loginEndpoint":"https://127.0.0.1:2/","audiences":["https://management.core.windows.net/","https://management.azure.com/"]}}"#;
        assert_eq!(serde_json::to_string(&CLOUD.metadata_endpoints_legacy()).unwrap(), legacy);
    }

    #[test]
    fn template_environment_is_unchanged() {
        let want = r#"{"name":"AzureCloud","gallery":"https://gallery.azure.com/","graph":"https://127.0.0.1:3/","portal":"https://127.0.0.1:4","graphAudience":"https://graph.windows.net/","activeDirectoryDataLake":"https://datalake.azure.net/","batch":"https://batch.core.windows.net/","media":"https://rest.media.azure.net","sqlManagement":"https://management.core.windows.net:8443/","vmImageAliasDoc":"https://127.0.0.1:1/mimic/vm-image-aliases","resourceManager":"https://127.0.0.1:1/","authentication":{"loginEndpoint":"https://127.0.0.1:2/","audiences":["https://management.core.windows.net/","https://management.azure.com/"],"tenant":"common","identityProvider":"AAD"},"suffixes":{"acrLoginServer":".azurecr.io","azureDatalakeAnalyticsCatalogAndJob":"azuredatalakeanalytics.net","azureDatalakeStoreFileSystem":"azuredatalakestore.net","azureFrontDoorEndpointSuffix":"azurefd.net","keyvaultDns":".vault.azure.net","sqlServerHostname":".database.windows.net","storage":"core.windows.net"}}"#;
        assert_eq!(serde_json::to_string(&CLOUD.template_environment()).unwrap(), want);
    }

    #[test]
    fn allowed_audiences_text() {
        assert_eq!(
            arm_allowed_audiences_text(),
            "'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'"
        );
    }
}
