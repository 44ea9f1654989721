//! The Tags API (resources.json `Tags_*`): a scope's tags as one resource, and a
//! subscription's tag names with their values and counts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `TagsResource`: `{scope}/providers/Microsoft.Resources/tags/default`.
#[derive(Debug, Serialize)]
pub struct TagsResource {
    pub id: String,
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub properties: TagsProperties,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TagsProperties {
    #[serde(default)]
    pub tags: Option<Map<String, Value>>,
}

/// Body of `PUT .../tags/default`.
#[derive(Debug, Deserialize)]
pub struct TagsWrite {
    pub properties: Option<TagsProperties>,
}

/// Body of `PATCH .../tags/default`: `operation` is `Merge`, `Replace` or `Delete`.
#[derive(Debug, Deserialize)]
pub struct TagsPatch {
    pub operation: Option<String>,
    pub properties: Option<TagsProperties>,
}

/// `TagCount`.
#[derive(Debug, Serialize)]
pub struct TagCount {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: usize,
}

/// `TagValue`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagValue {
    pub id: String,
    pub tag_value: String,
    pub count: TagCount,
}

/// `TagDetails`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagDetails {
    pub id: String,
    pub tag_name: String,
    pub count: TagCount,
    pub values: Vec<TagValue>,
}
