//! The OpenAPI 3.1 document, generated from the handlers and their types.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};

use crate::error::{ErrorResponse, HttpValidationError, ValidationError};
use crate::schemas::{InputArgConfigSchema, InputArgTypeSchema, IntegrationKeySchema};

/// The parts of the document no handler declares: info, security schemes, and the
/// component schemas referenced only through `value_type`.
pub(crate) fn base() -> OpenApi {
    let mut document = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Feather API — integrations")
                .description(Some(
                    "The integrations layer of the Feather customer-experience platform: \
                     connections, their tool catalogs, operator tool configuration.",
                ))
                .version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
        .build();
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "APIKeyHeader",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
    );
    components.add_security_scheme(
        "HTTPBearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    for (name, schema) in [
        component::<IntegrationKeySchema>(),
        component::<InputArgTypeSchema>(),
        component::<InputArgConfigSchema>(),
        component::<ErrorResponse>(),
        component::<HttpValidationError>(),
        component::<ValidationError>(),
    ] {
        components.schemas.insert(name, schema);
    }
    document
}

fn component<T: utoipa::ToSchema>() -> (
    String,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
) {
    (T::name().into_owned(), T::schema())
}

/// The complete document the service serves at `/openapi.json`.
pub fn openapi() -> OpenApi {
    crate::routes::api().into_openapi()
}
