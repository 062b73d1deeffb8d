//! The organization's tools as agents see and call them (DESIGN.md §3 "Agent-facing
//! tools"): what the MCP endpoint lists, and a call with the operator's configuration
//! enforced and every problem told in a sentence a model can act on.

use std::sync::Arc;

use feather_domain::agent_schema::agent_input_schema;
use feather_domain::field_map::{FieldMapping, field_mappings};
use feather_domain::input_config::FieldError;
use feather_domain::invocation::{InvocationMode, agent_call_result, has_vanished};
use feather_domain::narrowed_schema::narrowed_output_schema;
use feather_store::EnabledTool;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::blocking::off_runtime;
use crate::invoke::CallTarget;
use crate::vendors::CallEvents;
use crate::{Service, ServiceError, ServiceResult};

/// One tool as an agent is shown it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentTool {
    /// The tool's slug: unique in the organization.
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    /// The agent-facing input schema: pins removed, defaults shown.
    pub input_schema: Arc<Map<String, Value>>,
    /// The shape after the saved field map when one applies, else the upstream's.
    pub output_schema: Option<Arc<Map<String, Value>>>,
    /// The upstream's annotations (`readOnlyHint`, …), passed on as listed.
    pub annotations: Option<Value>,
    /// The nickname slug of the tool's connection (`/mcp/{nickname_slug}` lists only its
    /// tools).
    pub connection_slug: String,
}

/// What an agent's call came to.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentCall {
    /// A `CallToolResult` as JSON, `isError` when the call could not be made or failed
    /// upstream: the model reads the sentence and can correct itself.
    Result(Value),
    /// No tool the agent can see has this name: a protocol error, not a tool result.
    UnknownTool,
}

impl Service {
    /// The organization's tools an agent may call, in no particular order: enabled, on
    /// active connections, still in their server's catalog. Deriving the agent schemas is CPU
    /// work: it runs off the runtime.
    pub async fn agent_tools(&self, organization_id: Uuid) -> ServiceResult<Vec<AgentTool>> {
        let enabled = self.store.enabled_tools(organization_id).await?;
        Ok(off_runtime(move || {
            enabled
                .into_iter()
                .filter(|row| !has_vanished(row.tool.last_seen_at, row.tools_synced_at))
                .map(agent_tool)
                .collect()
        })
        .await)
    }

    /// Whether the organization has a connection with this nickname slug: the endpoint
    /// `/mcp/{nickname_slug}` of its tools exists.
    pub async fn has_connection_slug(
        &self,
        organization_id: Uuid,
        nickname_slug: &str,
    ) -> ServiceResult<bool> {
        Ok(self
            .store
            .has_nickname_slug(organization_id, nickname_slug)
            .await?)
    }

    /// Calls the tool named `name` for an agent of the organization, from the endpoint of
    /// one connection when `connection_slug` is given: merged with the operator's defaults
    /// and pins, validated, called upstream, narrowed by the saved field map, and
    /// recorded as an `agent` invocation; the upstream's progress and log notifications
    /// go to `events`. Only a failure of this service (its store) is an error.
    pub async fn call_agent_tool(
        &self,
        organization_id: Uuid,
        connection_slug: Option<&str>,
        name: &str,
        arguments: Map<String, Value>,
        events: &CallEvents,
    ) -> ServiceResult<AgentCall> {
        let Some(target) = self.agent_call_target(organization_id, name).await? else {
            return Ok(AgentCall::UnknownTool);
        };
        if connection_slug.is_some_and(|slug| slug != target.connection.nickname_slug) {
            return Ok(AgentCall::UnknownTool);
        }
        let invoked = self
            .invoke_found_tool(&target, InvocationMode::Agent, &arguments, None, events)
            .await;
        let refused = |sentence: String| Ok(AgentCall::Result(error_result(&sentence)));
        match invoked {
            Ok(invocation) => Ok(AgentCall::Result(agent_call_result(
                invocation.result,
                invocation.narrowed,
            ))),
            Err(ServiceError::ToolUnavailable(sentence)) => refused(sentence),
            Err(ServiceError::Invalid(problems)) => refused(invalid_arguments(&problems)),
            Err(ServiceError::Upstream(error)) => refused(format!(
                "The tool's server could not complete the call: {error}"
            )),
            Err(ServiceError::ConnectionNotActive(sentence)) => refused(sentence),
            Err(other) => Err(other),
        }
    }

    /// The tool whose slug is `name` with its connection and sealed credentials: kept
    /// while the organization's listing version is unchanged, else read (and kept).
    async fn agent_call_target(
        &self,
        organization_id: Uuid,
        name: &str,
    ) -> ServiceResult<Option<Arc<CallTarget>>> {
        let version = self.fresh_listing_version(organization_id).await?;
        if let Some(kept) = self.call_targets.get(organization_id, version, name) {
            return Ok(Some(kept));
        }
        // Both by the tool's slug, side by side: one round trip's time.
        let (tool, connection) = tokio::try_join!(
            self.store.find_organization_tool(organization_id, name),
            self.store.get_connection_of_tool(organization_id, name),
        )?;
        let Some(tool) = tool else {
            return Ok(None);
        };
        let connection = match connection {
            Some(connection) if connection.id == tool.connection_id => Some(connection),
            // The slug moved to another tool between the two reads: the tool's own.
            _ => {
                self.store
                    .get_connection(organization_id, tool.connection_id)
                    .await?
            }
        };
        let Some(connection) = connection else {
            return Ok(None);
        };
        let sealed_secret = self.store.connection_secret(connection.id).await?;
        let target = Arc::new(CallTarget {
            connection,
            tool,
            sealed_secret,
        });
        self.call_targets
            .keep(organization_id, version, name, Arc::clone(&target));
        Ok(Some(target))
    }
}

fn agent_tool(row: EnabledTool) -> AgentTool {
    let tool = row.tool;
    let input_schema = agent_input_schema(&tool.input_schema, tool.input_defaults.as_ref());
    let mappings: Option<Vec<FieldMapping>> = tool.response_field_map.as_ref().map(field_mappings);
    let output_schema = match (&tool.response_schema, mappings) {
        (Some(schema), Some(mappings)) => Some(narrowed_output_schema(schema, &mappings)),
        (schema, _) => schema.clone(),
    };
    AgentTool {
        name: tool.slug,
        title: tool.display_name,
        description: tool.description,
        input_schema: Arc::new(object_schema(input_schema)),
        output_schema: output_schema.map(object_schema).map(Arc::new),
        annotations: tool.annotations,
        connection_slug: row.nickname_slug,
    }
}

/// A schema as MCP carries it, a JSON object. A catalog's schemas are objects (a sync
/// refuses others), so the fallback, which accepts any object, is never expected.
fn object_schema(schema: Value) -> Map<String, Value> {
    match schema {
        Value::Object(schema) => schema,
        _ => Map::from_iter([("type".to_owned(), json!("object"))]),
    }
}

/// A `CallToolResult` telling the agent, in `sentence`, why its call was not made.
fn error_result(sentence: &str) -> Value {
    json!({"content": [{"type": "text", "text": sentence}], "isError": true})
}

/// The sentence for arguments that do not fit the input schema, naming each field (its
/// place in the arguments) with what is wrong.
fn invalid_arguments(problems: &[FieldError]) -> String {
    let described: Vec<String> = problems
        .iter()
        .map(|problem| {
            // Located under the request's `input`; the agent knows them as its arguments.
            let place = problem.loc.get(1..).unwrap_or_default();
            if place.is_empty() {
                format!("the arguments: {}", problem.msg)
            } else {
                format!("`{}`: {}", place.join("."), problem.msg)
            }
        })
        .collect();
    format!(
        "The arguments do not fit the tool's input schema, so it was not called. {}",
        described.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_arguments_name_each_field_by_its_place_in_the_arguments() {
        let problems = [
            FieldError::new(
                &["input", "channel"],
                "\"7\" is not of type \"integer\"",
                "x",
            ),
            FieldError::new(&["input", "to", "0"], "\"bob\" is not an \"email\"", "x"),
            FieldError::new(&["input"], "\"text\" is a required property", "x"),
        ];
        assert_eq!(
            invalid_arguments(&problems),
            "The arguments do not fit the tool's input schema, so it was not called. \
             `channel`: \"7\" is not of type \"integer\"; `to.0`: \"bob\" is not an \
             \"email\"; the arguments: \"text\" is a required property"
        );
    }
}
