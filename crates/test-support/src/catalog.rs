//! Realistic upstream tools, as an MCP server would list them.

use feather_service::UpstreamTool;
use serde_json::{Value, json};

/// A tool with a title, a description, a rich input schema (required fields, enum, bounds,
/// a format, a `$ref` into `$defs`) and an output schema with nested objects, an array of
/// objects, a `$ref` and an `anyOf`.
pub fn send_message() -> UpstreamTool {
    UpstreamTool {
        name: "send_message".to_owned(),
        title: Some("Send a message".to_owned()),
        description: Some("Post a message to a channel.".to_owned()),
        input_schema: send_message_input(),
        output_schema: Some(send_message_output()),
        annotations: None,
    }
}

pub fn send_message_input() -> Value {
    json!({
        "type": "object",
        "properties": {
            "channel": {"type": "string", "minLength": 1, "description": "Channel name or id."},
            "text": {"type": "string", "maxLength": 4000},
            "priority": {"type": "string", "enum": ["low", "normal", "high"]},
            "retries": {"type": "integer", "minimum": 0, "maximum": 5},
            "notify_at": {"type": "string", "format": "date-time"},
            "recipient": {"$ref": "#/$defs/user"}
        },
        "required": ["channel", "text"],
        "$defs": {
            "user": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "email": {"type": "string", "format": "email"}},
                "required": ["id"],
                "additionalProperties": false
            }
        }
    })
}

pub fn send_message_output() -> Value {
    json!({
        "type": "object",
        "properties": {
            "ok": {"type": "boolean"},
            "message": {
                "type": "object",
                "properties": {"ts": {"type": "string"}, "channel": {"type": "string"}}
            },
            "attachments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}}
                }
            },
            "sender": {"$ref": "#/$defs/user"},
            "permalink": {
                "anyOf": [
                    {"type": "object", "properties": {"url": {"type": "string"}}},
                    {"type": "null"}
                ]
            }
        },
        "$defs": {
            "user": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
        }
    })
}

/// A tool without a title (its display name is the humanized name) and without an output
/// schema.
pub fn list_channels() -> UpstreamTool {
    UpstreamTool {
        name: "list_channels".to_owned(),
        title: None,
        description: Some("List the channels of the workspace.".to_owned()),
        input_schema: json!({
            "type": "object",
            "properties": {
                "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                "cursor": {"type": "string"},
                "types": {"type": "array", "items": {"type": "string", "enum": ["public", "private"]}}
            }
        }),
        output_schema: None,
        annotations: None,
    }
}

/// A tool without a description.
pub fn get_user() -> UpstreamTool {
    UpstreamTool {
        name: "get_user".to_owned(),
        title: None,
        description: None,
        input_schema: json!({
            "type": "object",
            "properties": {"user_id": {"type": "string"}},
            "required": ["user_id"]
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}}
        })),
        annotations: None,
    }
}

/// The three tools above, listed out of `tool_path` order on purpose.
pub fn standard() -> Vec<UpstreamTool> {
    vec![send_message(), get_user(), list_channels()]
}

/// A tool with the given name and input schema and nothing else.
pub fn tool(name: &str, input_schema: Value) -> UpstreamTool {
    UpstreamTool {
        name: name.to_owned(),
        title: None,
        description: None,
        input_schema,
        output_schema: None,
        annotations: None,
    }
}

/// `tool` with an output schema.
pub fn tool_with_output(name: &str, input_schema: Value, output_schema: Value) -> UpstreamTool {
    UpstreamTool {
        output_schema: Some(output_schema),
        ..tool(name, input_schema)
    }
}
