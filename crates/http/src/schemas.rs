//! OpenAPI schemas of domain types. The domain crate stays free of documentation
//! derives, so their schemas are built here from the domain's own variant lists.

use std::borrow::Cow;

use feather_domain::input_config::InputArgType;
use feather_domain::integration::IntegrationKey;
use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
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
