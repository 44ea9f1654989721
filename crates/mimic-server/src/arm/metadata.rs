//! `GET /metadata/endpoints`: the cloud description `az cloud register` and the SDKs read to
//! find the login endpoint, token audiences, Graph and the rest. Open, as in Azure.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::AppState;

pub fn endpoints(state: &AppState, query: Option<&str>) -> Response {
    let e = &state.endpoints;
    let legacy = query.unwrap_or("").contains("api-version=2015-01-01");
    let body = if legacy {
        json!({
            "galleryEndpoint": "",
            "graphEndpoint": format!("{}/", e.graph),
            "portalEndpoint": format!("{}/", e.portal),
            "authentication": {
                "loginEndpoint": format!("{}/", e.login),
                "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            },
        })
    } else {
        json!({
            "portal": e.portal,
            "authentication": {
                "loginEndpoint": format!("{}/", e.login),
                "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "media": "",
            "graphAudience": "https://graph.windows.net/",
            "graph": format!("{}/", e.graph),
            "name": "Mimic",
            "suffixes": {
                "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
                "acrLoginServer": "azurecr.io",
                "sqlServerHostname": "database.windows.net",
                "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
                "keyVaultDns": "vault.azure.net",
                "storage": "core.windows.net",
                "azureFrontDoorEndpointSuffix": "azurefd.net",
                "storageSyncEndpointSuffix": "afs.azure.net",
                "mhsmDns": "managedhsm.azure.net",
                "mysqlServerEndpoint": "mysql.database.azure.com",
                "postgresqlServerEndpoint": "postgres.database.azure.com",
                "mariadbServerEndpoint": "mariadb.database.azure.com",
                "synapseAnalytics": "dev.azuresynapse.net",
                "attestationEndpoint": "attest.azure.net",
            },
            "batch": "https://batch.core.windows.net/",
            "resourceManager": format!("{}/", e.arm),
            "vmImageAliasDoc": format!("{}/mimic/vm-image-aliases", e.arm),
            "activeDirectoryDataLake": "https://datalake.azure.net/",
            "sqlManagement": "https://management.core.windows.net:8443/",
            "microsoftGraphResourceId": format!("{}/", e.graph),
            "appInsightsResourceId": "https://api.applicationinsights.io",
            "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
            "attestationResourceId": "https://attest.azure.net",
            "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
            "logAnalyticsResourceId": "https://api.loganalytics.io",
            "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        })
    };
    (StatusCode::OK, Json(body)).into_response()
}
