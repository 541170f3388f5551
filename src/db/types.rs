//! Column types, so that a model can be its own row: closed sets of text values (`text_enum!`),
//! JSON kept in portable TEXT columns (`JsonText` on the way in, `json_column!` on the way out)
//! UTC instants kept in naive `Timestamp` columns (`UtcTime` in, `DateTime<Utc>` out) and calendar
//! dates kept as ISO text (`DateText` in, `NaiveDate` out).
//!
//! Reads go through `DbConn` (`MultiBackend`) only. Writes also implement each concrete backend,
//! because multi-row inserts (`db::insert_many`) run on the connection variant itself.
//!
//! On a model that derives `Insertable`/`AsChangeset`, mark JSON fields
//! `#[diesel(serialize_as = JsonText)]`, timestamp fields `#[diesel(serialize_as = UtcTime)]` and
//! date fields `#[diesel(serialize_as = DateText)]`;
//! `Option<…>` fields take the same attribute and store `NULL` for `None`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::expression::AsExpression;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Text, Timestamp};

use super::MultiBackend;

/// Defines a closed set of text values: serde (the wire text), the OpenAPI schema, and the column
/// type (`Text`), so a model field or a filter takes the enum itself.
#[macro_export]
macro_rules! text_enum {
    // `$text` is a `tt`, not a `literal`: a `literal` fragment reaches derive macros wrapped in an
    // invisible group, which utoipa does not look into, so its schema ignored the serde rename
    // and published the variant names (`Market`) instead of the wire text (`market`).
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads a stored value; anything else means the row was written outside the service.
            pub fn from_db(text: &str) -> Result<Self, $crate::error::ApiError> {
                text.parse().map_err(|_| $crate::error::ApiError::internal(
                    format!("unexpected {} in the database: {text:?}", stringify!($name))))
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown value {s:?}; expected one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB: diesel::backend::Backend> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $name {
            fn from_sql(bytes: $crate::db::types::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend>>::from_sql(bytes)?;
                text.parse().map_err(|_| format!("unexpected {} in the database: {text:?}", stringify!($name)).into())
            }
        }
    };
}

/// The raw value of one column as the multi-backend connection hands it over.
pub type RawValue<'a> = <MultiBackend as Backend>::RawValue<'a>;

/// A type kept as JSON text: implement it with [`json_column!`](crate::json_column), which also
/// reads it back from a `Text` column.
pub trait JsonColumn: serde::Serialize + serde::de::DeserializeOwned {}

/// Reads `$ty` from a `Text` column holding its JSON, and lets `JsonText` write it.
#[macro_export]
macro_rules! json_column {
    // Types diesel already gives a `Queryable` for every SQL type they can be read from (`Vec<T>`).
    (@read $($ty:ty),+ $(,)?) => {$(
        impl $crate::db::types::JsonColumn for $ty {}

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn from_sql(bytes: $crate::db::types::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                $crate::db::types::decode_json(bytes)
            }
        }
    )+};
    ($($ty:ty),+ $(,)?) => {$(
        $crate::json_column!(@read $ty);

        impl diesel::deserialize::Queryable<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            type Row = Self;
            fn build(row: Self) -> diesel::deserialize::Result<Self> {
                Ok(row)
            }
        }
    )+};
}

json_column!(@read Vec<String>);

/// Decodes a JSON text column (for `json_column!`).
pub fn decode_json<T: serde::de::DeserializeOwned>(bytes: RawValue<'_>) -> deserialize::Result<T> {
    let text = <String as FromSql<Text, MultiBackend>>::from_sql(bytes)?;
    serde_json::from_str(&text).map_err(|e| format!("stored JSON is malformed: {e}").into())
}

/// A JSON column value on its way in: `#[diesel(serialize_as = JsonText)]`. `None` is `NULL`.
#[derive(Debug, Clone, AsExpression)]
#[diesel(sql_type = Text)]
pub struct JsonText(Option<String>);

impl<T: JsonColumn> From<T> for JsonText {
    fn from(value: T) -> Self {
        JsonText(Some(super::json::encode(&value)))
    }
}

impl<T: JsonColumn> From<Option<T>> for JsonText {
    fn from(value: Option<T>) -> Self {
        JsonText(value.map(|v| super::json::encode(&v)))
    }
}

impl<DB: Backend> ToSql<Text, DB> for JsonText
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        match &self.0 {
            Some(text) => <str as ToSql<Text, DB>>::to_sql(text.as_str(), out),
            None => Ok(IsNull::Yes),
        }
    }
}

/// A UTC instant on its way into a `Timestamp` column, stored naive in UTC:
/// `#[diesel(serialize_as = UtcTime)]`. `None` is `NULL`.
#[derive(Debug, Clone, Copy, AsExpression)]
#[diesel(sql_type = Timestamp)]
pub struct UtcTime(Option<NaiveDateTime>);

impl From<DateTime<Utc>> for UtcTime {
    fn from(t: DateTime<Utc>) -> Self {
        UtcTime(Some(t.naive_utc()))
    }
}

impl From<Option<DateTime<Utc>>> for UtcTime {
    fn from(t: Option<DateTime<Utc>>) -> Self {
        UtcTime(t.map(|t| t.naive_utc()))
    }
}

impl<DB: Backend> ToSql<Timestamp, DB> for UtcTime
where
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        match &self.0 {
            Some(t) => t.to_sql(out),
            None => Ok(IsNull::Yes),
        }
    }
}

/// `Timestamp` columns read as UTC instants.
impl FromSql<Timestamp, MultiBackend> for DateTime<Utc> {
    fn from_sql(bytes: RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, MultiBackend>>::from_sql(bytes).map(|t| t.and_utc())
    }
}

/// A calendar date on its way into a `Text` column, as `YYYY-MM-DD` (portable, and it sorts as
/// dates for the four-digit years `Check::date` admits): `#[diesel(serialize_as = DateText)]`.
/// `None` is `NULL`. Compare such a column with `date.to_string()`.
#[derive(Debug, Clone, AsExpression)]
#[diesel(sql_type = Text)]
pub struct DateText(Option<String>);

impl From<NaiveDate> for DateText {
    fn from(d: NaiveDate) -> Self {
        DateText(Some(d.format("%Y-%m-%d").to_string()))
    }
}

impl From<Option<NaiveDate>> for DateText {
    fn from(d: Option<NaiveDate>) -> Self {
        DateText(d.map(|d| d.format("%Y-%m-%d").to_string()))
    }
}

impl<DB: Backend> ToSql<Text, DB> for DateText
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        match &self.0 {
            Some(text) => <str as ToSql<Text, DB>>::to_sql(text.as_str(), out),
            None => Ok(IsNull::Yes),
        }
    }
}

/// `Text` columns holding `YYYY-MM-DD` read as dates.
impl FromSql<Text, MultiBackend> for NaiveDate {
    fn from_sql(bytes: RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, MultiBackend>>::from_sql(bytes)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map_err(|e| format!("stored date {text:?} is malformed: {e}").into())
    }
}
