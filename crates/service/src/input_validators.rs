//! The compiled input schemas of recently called tools, so that a call validates its
//! arguments without compiling its tool's schema again. An entry is used only while the
//! tool's schema is the one it was compiled from: a sync that changes the schema makes the
//! next call compile it anew.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use feather_domain::schema::{CompiledSchema, SchemaError};
use serde_json::Value;
use uuid::Uuid;

/// Tools kept at most: past this the cache starts over, so that it stays bounded.
const MAX_TOOLS: usize = 4096;

#[derive(Debug, Default)]
pub(crate) struct InputValidators {
    compiled: Mutex<HashMap<Uuid, Compiled>>,
}

#[derive(Debug)]
struct Compiled {
    schema: Value,
    validator: Arc<CompiledSchema>,
}

impl InputValidators {
    /// The kept validator of tool `tool_id`'s input schema, if it was compiled from
    /// `schema`.
    pub(crate) fn kept(&self, tool_id: Uuid, schema: &Value) -> Option<Arc<CompiledSchema>> {
        self.lock()
            .get(&tool_id)
            .filter(|kept| kept.schema == *schema)
            .map(|kept| Arc::clone(&kept.validator))
    }

    /// The validator of tool `tool_id`'s input schema `schema`: kept, or compiled now
    /// (CPU work for a large schema: the caller runs this off the runtime).
    pub(crate) fn get(
        &self,
        tool_id: Uuid,
        schema: &Value,
    ) -> Result<Arc<CompiledSchema>, SchemaError> {
        if let Some(kept) = self.kept(tool_id, schema) {
            return Ok(kept);
        }
        let validator = Arc::new(CompiledSchema::compile(schema)?);
        let mut compiled = self.lock();
        if compiled.len() >= MAX_TOOLS {
            compiled.clear();
        }
        compiled.insert(
            tool_id,
            Compiled {
                schema: schema.clone(),
                validator: Arc::clone(&validator),
            },
        );
        Ok(validator)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Compiled>> {
        self.compiled.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_schema_is_compiled_once_and_again_when_it_changes() {
        let validators = InputValidators::default();
        let tool = Uuid::now_v7();
        let text = json!({"type": "object", "properties": {"q": {"type": "string"}}});
        let first = validators.get(tool, &text).expect("compiles");
        let again = validators.get(tool, &text).expect("kept");
        assert!(Arc::ptr_eq(&first, &again));
        let kept = validators.kept(tool, &text).expect("kept");
        assert!(Arc::ptr_eq(&first, &kept));

        let number = json!({"type": "object", "properties": {"q": {"type": "integer"}}});
        let changed = validators.get(tool, &number).expect("compiles");
        assert!(!Arc::ptr_eq(&first, &changed));
        assert!(
            validators.kept(tool, &text).is_none(),
            "compiled from another schema"
        );
        assert!(changed.errors(&json!({"q": "text"})).len() == 1);
        assert!(changed.errors(&json!({"q": 7})).is_empty());
    }
}
