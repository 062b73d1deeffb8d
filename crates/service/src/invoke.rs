//! Invoking a tool through its connection, with the operator's defaults and pins enforced
//! (DESIGN.md §3 Invocation). Each call is recorded for analytics.

use std::sync::Arc;
use std::time::Instant;

use feather_domain::connection::Connection;
use feather_domain::field_map::{
    FieldMapping, field_mappings, narrow, parse_field_map, unresolved_paths,
};
use feather_domain::input_config::FieldError;
use feather_domain::integration::ConnectionStatus;
use feather_domain::invocation::{
    InvocationMode, has_vanished, merge_arguments, result_payload, stale_pins,
};
use feather_domain::last_used;
use feather_domain::schema::CompiledSchema;
use feather_domain::tool::Tool;
use feather_store::Invocation as InvocationRecord;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::blocking::off_runtime;
use crate::error::located_under;
use crate::vendors::CallEvents;
use crate::{Service, ServiceError, ServiceResult, UpstreamErrorKind};

/// A caller's request to invoke a tool of a connection.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    pub slug: String,
    /// Who is calling, as the invocation's record says.
    pub mode: InvocationMode,
    pub input: Map<String, Value>,
    /// A field map to narrow with instead of the tool's saved one.
    pub response_field_map: Option<Value>,
}

/// What an invocation returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// The MCP `CallToolResult` as JSON.
    pub result: Value,
    /// The result narrowed by the effective field map, when one applies.
    pub narrowed: Option<Value>,
    /// The field map's paths that found no value in this result (left out of `narrowed`).
    pub unresolved_field_paths: Vec<String>,
}

/// What a call goes upstream with: a tool, its connection and the connection's sealed
/// credentials, of one organization.
#[derive(Debug)]
pub(crate) struct CallTarget {
    pub(crate) connection: Connection,
    pub(crate) tool: Tool,
    pub(crate) sealed_secret: Option<Vec<u8>>,
}

impl Service {
    /// Resolves the slug within the connection, merges the operator's defaults and pins
    /// into the caller's input, validates the result against the tool's `input_schema`,
    /// calls the tool upstream, and narrows the answer by the effective field map (the
    /// request's, else the tool's saved one).
    pub async fn invoke_tool(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        request: InvokeRequest,
    ) -> ServiceResult<Invocation> {
        let override_map = request
            .response_field_map
            .as_ref()
            .map(|map| {
                parse_field_map(map).map_err(|problems| {
                    ServiceError::Invalid(located_under("response_field_map", problems).collect())
                })
            })
            .transpose()?;
        // Side by side: the secret is used only once the connection is found in the
        // organization.
        let (connection, tool, sealed_secret) = tokio::try_join!(
            self.store.get_connection(organization_id, connection_id),
            self.store
                .find_tool_by_slug(organization_id, connection_id, &request.slug),
            self.store.connection_secret(connection_id),
        )?;
        let connection = connection.ok_or(ServiceError::NotFound("connection"))?;
        let tool =
            tool.ok_or_else(|| unavailable(&request.slug, "no tool of this connection has it"))?;
        let target = CallTarget {
            connection,
            tool,
            sealed_secret,
        };
        self.invoke_found_tool(
            &target,
            request.mode,
            &request.input,
            override_map,
            &CallEvents::none(),
        )
        .await
    }

    /// Invokes `target` (found by the caller, in the caller's organization): the checks,
    /// merge and call of [`Service::invoke_tool`], narrowing by `override_map` else the
    /// tool's saved field map; what the upstream tells meanwhile goes to `events`.
    pub(crate) async fn invoke_found_tool(
        &self,
        target: &CallTarget,
        mode: InvocationMode,
        input: &Map<String, Value>,
        override_map: Option<Vec<FieldMapping>>,
        events: &CallEvents,
    ) -> ServiceResult<Invocation> {
        let (connection, tool) = (&target.connection, &target.tool);
        if connection.status != ConnectionStatus::Active {
            return Err(ServiceError::ToolUnavailable(format!(
                "The connection is {}, not active.",
                connection.status.as_str()
            )));
        }
        if !self.vendors.has_tools(connection.vendor) {
            return Err(ServiceError::ToolUnavailable(
                "The connection's integration has no tools this service can call.".to_owned(),
            ));
        }
        if !tool.is_enabled {
            return Err(unavailable(&tool.slug, "the tool is disabled"));
        }
        if has_vanished(tool.last_seen_at, connection.tools_synced_at) {
            return Err(unavailable(
                &tool.slug,
                "the tool is no longer in the server's catalog",
            ));
        }

        refuse_stale_pins(tool)?;
        let arguments = merge_arguments(tool.input_defaults.as_ref(), input);
        let validator = self.input_validator(tool).await?;
        check_arguments(&validator, &Value::Object(arguments.clone()))?;

        let upstream = self
            .reach_sealed(connection, target.sealed_secret.as_deref())
            .await?;
        let started_at = self.now();
        let clock = Instant::now();
        let called = upstream.call_tool(&tool.tool_path, arguments, events).await;
        let (outcome, error) = match &called {
            Ok(result) if result.get("isError") == Some(&Value::Bool(true)) => ("tool_error", None),
            Ok(_) => ("ok", None),
            Err(error) if error.kind == UpstreamErrorKind::Timeout => {
                ("timeout", Some(error.message.clone()))
            }
            Err(error) => ("upstream_error", Some(error.message.clone())),
        };
        metrics::counter!("feather_upstream_calls_total", "outcome" => outcome).increment(1);
        metrics::histogram!("feather_upstream_call_duration_seconds", "outcome" => outcome)
            .record(clock.elapsed().as_secs_f64());
        let (organization_id, connection_id) = (connection.organization_id, connection.id);
        self.store
            .record_invocation(&InvocationRecord {
                id: Uuid::now_v7(),
                organization_id,
                connection_id,
                tool_id: tool.id,
                tool_path: tool.tool_path.clone(),
                started_at,
                duration_ms: i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX),
                outcome: outcome.to_owned(),
                error,
                mode,
            })
            .await?;
        if last_used::is_due(connection.last_used_at, started_at) {
            self.store
                .mark_connection_used(organization_id, connection_id, started_at)
                .await?;
        }
        if let Err(refusal) = &called
            && refusal.kind == UpstreamErrorKind::InsufficientScope
        {
            self.ask_for_scopes(organization_id, connection_id, refusal)
                .await?;
        }
        let result = called?;

        let mappings =
            override_map.or_else(|| tool.response_field_map.as_ref().map(field_mappings));
        let (narrowed, unresolved_field_paths) = match mappings {
            Some(mappings) => {
                let payload = result_payload(&result);
                (
                    Some(narrow(&payload, &mappings)),
                    unresolved_paths(&payload, &mappings),
                )
            }
            None => (None, Vec::new()),
        };
        Ok(Invocation {
            result,
            narrowed,
            unresolved_field_paths,
        })
    }
}

impl Service {
    /// The compiled validator of the tool's input schema: kept, or compiled off the
    /// runtime (milliseconds to seconds for the largest schemas). Validating with it is
    /// done inline: arguments are bounded by the request body limit, and checking them
    /// costs less than a hop to the blocking pool.
    async fn input_validator(&self, tool: &Tool) -> ServiceResult<Arc<CompiledSchema>> {
        let compiled = match self.input_validators.kept(tool.id, &tool.input_schema) {
            Some(kept) => Ok(kept),
            None => {
                let validators = Arc::clone(&self.input_validators);
                let (tool_id, schema) = (tool.id, tool.input_schema.clone());
                off_runtime(move || validators.get(tool_id, &schema)).await
            }
        };
        compiled.map_err(|error| {
            unavailable(
                &tool.slug,
                &format!("its input schema is invalid ({error})"),
            )
        })
    }
}

fn unavailable(slug: &str, why: &str) -> ServiceError {
    ServiceError::ToolUnavailable(format!("The tool {slug:?} cannot be invoked: {why}."))
}

/// No pin of the tool may be stale: its value was chosen for a field the server has since
/// removed or retyped.
fn refuse_stale_pins(tool: &Tool) -> ServiceResult<()> {
    let stale = stale_pins(&tool.input_schema, tool.input_defaults.as_ref());
    if stale.is_empty() {
        return Ok(());
    }
    Err(unavailable(
        &tool.slug,
        &format!(
            "the operator's pinned value of {} no longer fits its input schema (the \
             server changed the field); the pin must be set again or cleared",
            stale
                .iter()
                .map(|field| format!("`{field}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// The merged arguments must satisfy the tool's input schema (compiled as `validator`);
/// each violation is reported at its place under `input`.
fn check_arguments(validator: &CompiledSchema, arguments: &Value) -> ServiceResult<()> {
    let violations = validator.errors(arguments);
    if violations.is_empty() {
        return Ok(());
    }
    Err(ServiceError::Invalid(
        violations
            .into_iter()
            .map(|violation| {
                let mut loc = vec!["input".to_owned()];
                loc.extend(violation.instance_path);
                FieldError {
                    loc,
                    msg: violation.message,
                    kind: "invalid_value",
                }
            })
            .collect(),
    ))
}
