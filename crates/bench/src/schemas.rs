//! Builders of realistic tool documents, shared by the fixture generator and the criterion
//! benchmarks so that both measure the same shapes.
//!
//! Every tool of a workload comes from [`tool`]: an ~1 KB input schema with 8 properties
//! (strings with descriptions, an enum, bounded integers, a nested object, an array). Which
//! optional documents a tool carries depends on its index within the connection, so that a
//! connection of 20 tools is an even mix:
//!
//! | `index % 4` | `input_defaults` + `response_field_map` | `response_schema` |
//! |-------------|------------------------------------------|-------------------|
//! | 0           | yes                                      | yes               |
//! | 1           | yes                                      | no                |
//! | 2           | no                                       | no                |
//! | 3           | no                                       | yes               |
//!
//! so half the tools have operator config (one `default`, one `pinned` entry, and a field
//! map of three paths, one of which no longer resolves) and half have a response schema.

use feather_domain::input_config::{InputArgConfig, InputArgType, InputDefaults};
use feather_domain::integration::IntegrationKey;
use serde_json::{Value, json};

/// Tools per connection in W1 (and in every W2 connection).
pub const TOOLS_PER_CONNECTION: usize = 20;
/// Connections of the W1 organization.
pub const W1_CONNECTIONS: usize = 5;

/// Verbs and objects combined into tool names, so that names look like real catalogs.
const VERBS: [&str; 5] = ["send", "list", "get", "update", "search"];
const OBJECTS: [&str; 4] = ["message", "channel", "document", "event"];

/// The integrations W1's connections use, in order (cycled for more connections).
pub const INTEGRATIONS: [IntegrationKey; 5] = [
    IntegrationKey::Slack,
    IntegrationKey::Notion,
    IntegrationKey::GoogleDrive,
    IntegrationKey::Calcom,
    IntegrationKey::CustomMcp,
];

/// Everything about one generated tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDocs {
    pub tool_path: String,
    pub display_name: String,
    pub description: String,
    pub input_schema: Value,
    pub response_schema: Option<Value>,
    pub input_defaults: Option<InputDefaults>,
    pub response_field_map: Option<Value>,
}

/// The integration of the `connection`-th connection of an organization.
pub fn integration(connection: usize) -> IntegrationKey {
    INTEGRATIONS[connection % INTEGRATIONS.len()]
}

/// The `index`-th tool's name: unique within a connection for `index < 20 * k`.
pub fn tool_path(index: usize) -> String {
    let verb = VERBS[index % VERBS.len()];
    let object = OBJECTS[(index / VERBS.len()) % OBJECTS.len()];
    let round = index / (VERBS.len() * OBJECTS.len());
    if round == 0 {
        format!("{verb}_{object}")
    } else {
        format!("{verb}_{object}_v{}", round + 1)
    }
}

/// `send_message` -> `Send Message`.
fn humanize(path: &str) -> String {
    path.split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An ~1 KB input schema with 8 properties. `salt` varies the descriptions so that the
/// documents of different tools are not byte-identical.
pub fn input_schema(salt: usize) -> Value {
    json!({
        "type": "object",
        "properties": {
            "channel": {
                "type": "string",
                "description": format!("Channel, page or folder to act on (workspace {salt}); an id or a #name."),
                "minLength": 1,
                "maxLength": 80
            },
            "text": {
                "type": "string",
                "description": "Body of the message or document, in the integration's markup. Mentions are resolved.",
                "maxLength": 4000
            },
            "thread": {
                "type": "string",
                "description": "Identifier of the parent item to reply to; omit to start a new thread."
            },
            "priority": {
                "type": "string",
                "enum": ["low", "normal", "high", "urgent"],
                "description": "How the recipient is notified."
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": 200,
                "description": "Maximum number of items to return in one page."
            },
            "offset": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10000,
                "description": "Items to skip before the first one returned."
            },
            "options": {
                "type": "object",
                "description": "Formatting options.",
                "properties": {
                    "format": {"type": "string", "enum": ["plain", "markdown", "html"]},
                    "unfurl_links": {"type": "boolean"},
                    "notify": {"type": "boolean", "description": "Send a notification."}
                },
                "additionalProperties": false
            },
            "tags": {
                "type": "array",
                "description": "Labels attached to the item.",
                "items": {"type": "string", "minLength": 1, "maxLength": 64},
                "maxItems": 20
            }
        },
        "required": ["channel", "text"],
        "additionalProperties": false
    })
}

/// A response schema (an MCP `outputSchema`): nested objects, an array of objects, a `$ref`.
pub fn response_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "ok": {"type": "boolean"},
            "id": {"type": "string"},
            "message": {
                "type": "object",
                "properties": {
                    "ts": {"type": "string"},
                    "text": {"type": "string"},
                    "author": {"$ref": "#/$defs/user"}
                }
            },
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "created_at": {"type": "string", "format": "date-time"}
                    }
                }
            },
            "next_cursor": {"type": ["string", "null"]}
        },
        "$defs": {
            "user": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}}
            }
        }
    })
}

/// One `default` and one `pinned` entry, both valid against [`input_schema`].
pub fn input_defaults() -> InputDefaults {
    let mut defaults = InputDefaults::new();
    defaults.insert(
        "priority".into(),
        InputArgConfig {
            value: json!("normal"),
            r#type: InputArgType::Default,
        },
    );
    defaults.insert(
        "limit".into(),
        InputArgConfig {
            value: json!(50),
            r#type: InputArgType::Pinned,
        },
    );
    defaults
}

/// Three mappings; `legacy.permalink` does not resolve in [`response_schema`].
pub fn response_field_map() -> Value {
    json!({
        "field_mappings": [
            {"path": "message.author.name", "alias": "author"},
            {"path": "items.0.id", "alias": "first_item_id"},
            {"path": "legacy.permalink", "alias": null}
        ]
    })
}

/// Whether the `index`-th tool of a connection has operator config.
pub fn has_operator_config(index: usize) -> bool {
    index % 4 < 2
}

/// Whether the `index`-th tool of a connection has a response schema.
pub fn has_response_schema(index: usize) -> bool {
    matches!(index % 4, 0 | 3)
}

/// The `index`-th tool of a connection; `salt` varies its descriptions.
pub fn tool(index: usize, salt: usize) -> ToolDocs {
    let path = tool_path(index);
    let configured = has_operator_config(index);
    ToolDocs {
        display_name: humanize(&path),
        description: format!(
            "{} through the integration. Returns the affected items; fails when the caller \
             lacks access (catalog {salt}).",
            humanize(&path)
        ),
        tool_path: path,
        input_schema: input_schema(salt),
        response_schema: has_response_schema(index).then(response_schema),
        input_defaults: configured.then(input_defaults),
        response_field_map: configured.then(response_field_map),
    }
}

/// A connection's worth of tools.
pub fn connection_tools(count: usize, salt: usize) -> Vec<ToolDocs> {
    (0..count).map(|index| tool(index, salt)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_schema_is_about_one_kilobyte_with_eight_properties() {
        let schema = input_schema(12345);
        let size = serde_json::to_string(&schema).map(|s| s.len()).unwrap_or(0);
        assert!((900..1600).contains(&size), "{size} bytes");
        let properties = schema["properties"].as_object().map(|p| p.len());
        assert_eq!(properties, Some(8));
    }

    #[test]
    fn tool_paths_are_unique_within_a_connection() {
        let paths: std::collections::BTreeSet<_> = (0..60).map(tool_path).collect();
        assert_eq!(paths.len(), 60);
    }

    #[test]
    fn half_configured_half_with_response_schema() {
        let tools = connection_tools(TOOLS_PER_CONNECTION, 0);
        let configured = tools.iter().filter(|t| t.input_defaults.is_some()).count();
        let with_schema = tools.iter().filter(|t| t.response_schema.is_some()).count();
        assert_eq!((configured, with_schema), (10, 10));
    }

    #[test]
    fn defaults_are_valid_and_one_field_path_is_stale() {
        let tool = tool(0, 0);
        let view = feather_domain::input_config::input_config_view(
            &tool.input_schema,
            tool.input_defaults.as_ref(),
        );
        assert!(view.stale_input_fields.is_empty());
        assert_eq!((view.default_count, view.pinned_count), (1, 1));
        let stale = feather_domain::field_map::stale_field_paths(
            tool.response_schema.as_ref(),
            tool.response_field_map.as_ref(),
        );
        assert_eq!(stale, vec!["legacy.permalink".to_owned()]);
    }
}
