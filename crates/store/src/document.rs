//! JSON documents whose key order is part of their meaning (tool schemas, operator maps).
//!
//! PostgreSQL's `jsonb` reorders object keys, so these columns are `json` there (stored as
//! written) and TEXT on SQLite. sqlx's own `Json<T>` always binds as `jsonb`, which would
//! reorder the keys on the way in, hence this small codec that binds the text as `json`.
//!
//! `Document<Box<RawValue>>` reads a document as its stored text, checked but not parsed
//! into a tree, for the reads that only pass it on.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Type};

/// A JSON document stored with its key order intact.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Document<T = Value>(pub T);

impl<T> Type<Postgres> for Document<T> {
    fn type_info() -> PgTypeInfo {
        // The built-in `json` type's fixed OID.
        PgTypeInfo::with_oid(Oid(114))
    }
}

impl<T: Serialize> Encode<'_, Postgres> for Document<T> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        // The binary form of `json` is its UTF-8 text.
        serde_json::to_writer(&mut **buf, &self.0)?;
        Ok(IsNull::No)
    }
}

impl<T: DeserializeOwned> Decode<'_, Postgres> for Document<T> {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Document(serde_json::from_str(value.as_str()?)?))
    }
}

impl<T> Type<Sqlite> for Document<T> {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<T: Serialize> Encode<'_, Sqlite> for Document<T> {
    fn encode_by_ref(&self, args: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<'_, Sqlite>>::encode(serde_json::to_string(&self.0)?, args)
    }
}

impl<'r, T: DeserializeOwned> Decode<'r, Sqlite> for Document<T> {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Document(serde_json::from_str(text)?))
    }
}
