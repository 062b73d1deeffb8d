//! JSON documents whose key order is part of their meaning (tool schemas, operator maps).
//!
//! PostgreSQL's `jsonb` reorders object keys, so these columns are `json` there (stored as
//! written) and TEXT on SQLite. sqlx's own `Json<T>` always binds as `jsonb`, which would
//! reorder the keys on the way in, hence this small codec that binds the text as `json`.

use serde_json::Value;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Type};

/// A JSON value stored with its key order intact.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Document(pub Value);

impl Type<Postgres> for Document {
    fn type_info() -> PgTypeInfo {
        // The built-in `json` type's fixed OID.
        PgTypeInfo::with_oid(Oid(114))
    }
}

impl Encode<'_, Postgres> for Document {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        // The binary form of `json` is its UTF-8 text.
        serde_json::to_writer(&mut **buf, &self.0)?;
        Ok(IsNull::No)
    }
}

impl Decode<'_, Postgres> for Document {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Document(serde_json::from_str(value.as_str()?)?))
    }
}

impl Type<Sqlite> for Document {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for Document {
    fn encode_by_ref(&self, args: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<'_, Sqlite>>::encode(serde_json::to_string(&self.0)?, args)
    }
}

impl<'r> Decode<'r, Sqlite> for Document {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Document(serde_json::from_str(text)?))
    }
}
