//! OpenAPI schemas of domain types. The domain crate stays free of documentation
//! derives, so their schemas are built here from the domain's own variant lists.

use std::borrow::Cow;

use feather_domain::input_config::InputArgType;
use feather_domain::integration::IntegrationKey;
use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{
    AdditionalProperties, Array, ArrayBuilder, Object, ObjectBuilder, Schema, Type,
};
use utoipa::{PartialSchema, ToSchema};

/// Schema of [`IntegrationKey`].
#[derive(Debug)]
pub struct IntegrationKeySchema;

impl PartialSchema for IntegrationKeySchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(IntegrationKey::ALL.map(IntegrationKey::as_str)))
            .title(Some("IntegrationKey"))
            .description(Some("Stable identifier for each supported integration."))
            .into()
    }
}

impl ToSchema for IntegrationKeySchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("IntegrationKey")
    }
}

/// Schema of [`InputArgType`].
#[derive(Debug)]
pub struct InputArgTypeSchema;

impl PartialSchema for InputArgTypeSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([InputArgType::Default, InputArgType::Pinned].map(
                |kind| match kind {
                    InputArgType::Default => "default",
                    InputArgType::Pinned => "pinned",
                },
            )))
            .title(Some("InputArgType"))
            .description(Some(
                "How an operator-configured input value is enforced: a `default` the caller \
                 may overwrite, or a `pinned` value it cannot.",
            ))
            .into()
    }
}

impl ToSchema for InputArgTypeSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("InputArgType")
    }
}

/// One operator-configured input field: a `value` plus its enforcement `type`.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InputArgConfig)]
#[allow(dead_code)] // Only its schema is used; the domain parses the real values.
pub struct InputArgConfigSchema {
    #[schema(value_type = Value)]
    value: Value,
    #[serde(rename = "type")]
    #[schema(value_type = InputArgTypeSchema, default = "default", required = false)]
    kind: String,
}

/// A list of strings computed on every read. utoipa's `Array` has no `readOnly` field, so
/// the keyword travels in its flattened extensions map (inserted directly: the extensions
/// builder would prefix it with `x-`), which serializes to the same JSON.
fn computed_strings(title: &str, description: &str) -> Array {
    let mut read_only = Extensions::default();
    read_only.insert("readOnly".to_owned(), Value::Bool(true));
    ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String))
        .title(Some(title))
        .description(Some(description))
        .extensions(Some(read_only))
        .build()
}

/// Schema of `ConnectionToolResponse.stale_field_paths`.
pub fn stale_field_paths_schema() -> Array {
    computed_strings(
        "Stale Field Paths",
        "Saved field-map paths no longer present in the response shape.",
    )
}

/// Schema of `ConnectionToolResponse.stale_input_fields`.
pub fn stale_input_fields_schema() -> Array {
    computed_strings(
        "Stale Input Fields",
        "Configured input fields removed, renamed or retyped by a re-sync.",
    )
}

/// Schema of `ConnectionToolResponse.merged_input_preview`.
pub fn merged_input_preview_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .title(Some("Merged Input Preview"))
        .description(Some(
            "`input_schema` with each operator value injected as its property's default.",
        ))
        .read_only(Some(true))
        .build()
}
