//! How the domain's types are stored: closed vocabularies as their short strings, structured
//! values as JSON text. Columns of these types read straight into the domain's types, so no
//! code compares a status with a string literal, and a stored value that does not parse (a
//! corrupt row) is an error naming the column's type, never a default.
//!
//! The impls are written here rather than derived on the types, so that `domain` stays free of
//! the database (it compiles to WebAssembly without sea-orm).

use crate::domain::access::KeyScopes;
use crate::domain::audience::Filter;
use crate::domain::campaign::{Draft, Settings};
use crate::domain::ingest::ColumnTarget;
use crate::domain::template::Content;
use crate::domain::trigger::Trigger;
use crate::domain::workflow::Workflow;
use crate::domain::{
    ActionState, BounceType, CampaignKind, CampaignStatus, Channel, ContactStatus, DeliveryState,
    ExitReason, HitKind, ImportState, JobState, ListKind, Machine, MessageType, Role, RunOutcome,
    RunStatus, SkipReason, SubscriptionStatus,
};
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, StringLen, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn corrupt(into: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> TryGetError {
    TryGetError::DbErr(DbErr::TryIntoErr {
        from: "String",
        into,
        source: std::sync::Arc::new(e),
    })
}

/// Stores a closed vocabulary (`as_str` / `FromStr`) as a string column.
macro_rules! text_column {
    ($($ty:ty),+ $(,)?) => {$(
        impl From<$ty> for Value {
            fn from(v: $ty) -> Self {
                v.as_str().to_owned().into()
            }
        }
        impl TryGetable for $ty {
            fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
                let text = String::try_get_by(res, idx)?;
                text.parse().map_err(|e| corrupt(stringify!($ty), e))
            }
        }
        impl ValueType for $ty {
            fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
                let text = <String as ValueType>::try_from(v)?;
                text.parse().map_err(|_| ValueTypeErr)
            }
            fn type_name() -> String {
                stringify!($ty).to_owned()
            }
            fn array_type() -> ArrayType {
                ArrayType::String
            }
            fn column_type() -> ColumnType {
                ColumnType::String(StringLen::None)
            }
        }
        impl Nullable for $ty {
            fn null() -> Value {
                Value::String(None)
            }
        }
        impl sea_orm::sea_query::postgres_array::NotU8 for $ty {}
    )+};
}

text_column!(
    Role,
    CampaignStatus,
    CampaignKind,
    MessageType,
    Channel,
    ContactStatus,
    DeliveryState,
    SkipReason,
    SubscriptionStatus,
    ListKind,
    ImportState,
    JobState,
    BounceType,
    ActionState,
    RunOutcome,
    HitKind,
    Machine,
    RunStatus,
    ExitReason,
);

/// Stores a serde type as JSON text.
macro_rules! json_column {
    ($($ty:ty),+ $(,)?) => {$(
        impl From<$ty> for Value {
            fn from(v: $ty) -> Self {
                // Serialising these types cannot fail: they are plain data with string keys.
                serde_json::to_string(&v).expect("serialisable").into()
            }
        }
        impl TryGetable for $ty {
            fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
                let text = String::try_get_by(res, idx)?;
                serde_json::from_str(&text).map_err(|e| corrupt(stringify!($ty), e))
            }
        }
        impl ValueType for $ty {
            fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
                let text = <String as ValueType>::try_from(v)?;
                serde_json::from_str(&text).map_err(|_| ValueTypeErr)
            }
            fn type_name() -> String {
                stringify!($ty).to_owned()
            }
            fn array_type() -> ArrayType {
                ArrayType::String
            }
            fn column_type() -> ColumnType {
                ColumnType::Text
            }
        }
        impl Nullable for $ty {
            fn null() -> Value {
                Value::String(None)
            }
        }
        impl sea_orm::sea_query::postgres_array::NotU8 for $ty {}
    )+};
}

/// A template's other languages, by language code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Variants(pub BTreeMap<String, Content>);

/// A contact's custom attributes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Attributes(pub BTreeMap<String, String>);

/// An event's properties, as the sender gave them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Properties(pub serde_json::Map<String, serde_json::Value>);

/// An import's column mapping: one target per column of the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ColumnMapping(pub Vec<ColumnTarget>);

json_column!(
    Filter,
    Trigger,
    Settings,
    Draft,
    Content,
    Variants,
    Attributes,
    Properties,
    ColumnMapping,
    Workflow,
    super::workflow_version::TemplateVersions,
);

/// API key scopes, stored as their names separated by spaces.
impl From<KeyScopes> for Value {
    fn from(v: KeyScopes) -> Self {
        v.to_text().into()
    }
}
impl TryGetable for KeyScopes {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, idx)?;
        KeyScopes::parse(&text).map_err(|e| corrupt("KeyScopes", std::io::Error::other(e)))
    }
}
impl ValueType for KeyScopes {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        let text = <String as ValueType>::try_from(v)?;
        KeyScopes::parse(&text).map_err(|_| ValueTypeErr)
    }
    fn type_name() -> String {
        "KeyScopes".to_owned()
    }
    fn array_type() -> ArrayType {
        ArrayType::String
    }
    fn column_type() -> ColumnType {
        ColumnType::String(StringLen::None)
    }
}
impl Nullable for KeyScopes {
    fn null() -> Value {
        Value::String(None)
    }
}
impl sea_orm::sea_query::postgres_array::NotU8 for KeyScopes {}
