//! The schema vocabulary: fields, their types, tables and where each came from.

use serde::{Deserialize, Serialize};

use crate::diag::Loc;

/// The fields of a stream's records at one point of a pipeline.
#[derive(Debug, Clone)]
pub struct RecordSchema {
    /// The fields, in order (a table's column order, or as declared).
    pub fields: Vec<FieldDef>,
    /// Whether records may also carry fields not listed (a contract with
    /// `allow_extra_fields`): a name missing from `fields` is then not an error.
    pub open: bool,
    /// Where the fields were learnt, for the note of every diagnostic.
    pub origin: Origin,
}

impl RecordSchema {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field at a dotted path (`address.city`), through object fields.
    pub fn path(&self, path: &[String]) -> Option<&FieldDef> {
        let (first, rest) = path.split_first()?;
        let mut field = self.field(first)?;
        for name in rest {
            let FieldType::Object { fields } = &field.ty else { return None };
            field = fields.iter().find(|f| &f.name == name)?;
        }
        Some(field)
    }

    /// The names of the top-level fields, for did-you-mean suggestions.
    pub fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name.as_str()).collect()
    }
}

/// One field of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDef {
    /// The key in the record.
    pub name: String,
    /// The value's type.
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// Whether the value may be `null`.
    pub nullable: bool,
    /// Whether every record has the key (false: it may be absent).
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// A field's type, in the terms every connector can map to its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FieldType {
    /// Text.
    String,
    /// A whole number (up to 64 bits unless the database says more).
    Integer,
    /// A binary floating-point number.
    Number,
    /// An exact decimal; `precision` and `scale` when the database declares them.
    Decimal {
        /// Total digits.
        precision: Option<u32>,
        /// Digits after the point.
        scale: Option<u32>,
    },
    /// `true` or `false`.
    Boolean,
    /// A calendar date.
    Date,
    /// A time of day.
    Time,
    /// A point in time; `time_zone` when it carries an offset.
    Timestamp {
        /// Whether the value has a time zone (PostgreSQL `timestamptz`, MySQL `TIMESTAMP`).
        time_zone: bool,
    },
    /// Any JSON value (a `json`/`jsonb` column, a `json` declaration).
    Json,
    /// Bytes.
    Binary,
    /// A nested object with known fields.
    Object {
        /// Its fields.
        fields: Vec<FieldDef>,
    },
    /// A list of values of one type.
    Array {
        /// The items' type.
        items: Box<FieldType>,
    },
    /// A database type faucet has no name for (`inet`, `money`, …): it travels
    /// as the text the database gives for it.
    Other {
        /// The database's name for the type.
        name: String,
    },
}

impl FieldType {
    /// A short name for messages: `string`, `decimal(10,2)`, `array of integer`.
    pub fn describe(&self) -> String {
        match self {
            FieldType::String => "string".into(),
            FieldType::Integer => "integer".into(),
            FieldType::Number => "number".into(),
            FieldType::Decimal { precision: Some(p), scale: Some(s) } => format!("decimal({p},{s})"),
            FieldType::Decimal { .. } => "decimal".into(),
            FieldType::Boolean => "boolean".into(),
            FieldType::Date => "date".into(),
            FieldType::Time => "time".into(),
            FieldType::Timestamp { time_zone: true } => "timestamp with time zone".into(),
            FieldType::Timestamp { time_zone: false } => "timestamp".into(),
            FieldType::Json => "json".into(),
            FieldType::Binary => "binary".into(),
            FieldType::Object { .. } => "object".into(),
            FieldType::Array { items } => format!("array of {}", items.describe()),
            FieldType::Other { name } => name.clone(),
        }
    }
}

/// The database a table lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Database {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    #[serde(rename = "mysql")]
    MySql,
    /// SQLite.
    Sqlite,
}

impl Database {
    /// The name in cache files and connector types: `postgres`, `mysql`, `sqlite`.
    pub fn key(self) -> &'static str {
        match self {
            Database::Postgres => "postgres",
            Database::MySql => "mysql",
            Database::Sqlite => "sqlite",
        }
    }

    /// The product name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Database::Postgres => "PostgreSQL",
            Database::MySql => "MySQL",
            Database::Sqlite => "SQLite",
        }
    }
}

/// What introspection reads of a table (a sink's target, a source's table) or
/// of a query's result: its columns and keys. This is what the offline cache stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSchema {
    /// The database.
    pub database: Database,
    /// The table as written in messages (`public.users`), or the query's first line.
    pub name: String,
    /// The columns, in table order.
    pub columns: Vec<Column>,
    /// The primary key's columns (empty: none).
    #[serde(default)]
    pub primary_key: Vec<String>,
    /// Each unique key's columns.
    #[serde(default)]
    pub unique_keys: Vec<Vec<String>>,
}

impl TableSchema {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.field.name == name)
    }

    /// Whether `key` (in any order) is the primary key or a unique key.
    pub fn is_unique_key(&self, key: &[String]) -> bool {
        let same = |k: &Vec<String>| k.len() == key.len() && key.iter().all(|c| k.contains(c));
        same(&self.primary_key) || self.unique_keys.iter().any(same)
    }

    /// The records this table or query yields, as read by a source.
    pub fn records(&self, origin: Origin) -> RecordSchema {
        RecordSchema { fields: self.columns.iter().map(|c| c.field.clone()).collect(), open: false, origin }
    }
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Name, type and nullability as a record field.
    #[serde(flatten)]
    pub field: FieldDef,
    /// The type as the database names it (`numeric(10,2)`, `varchar(40)`).
    pub db_type: String,
    /// Whether an insert that leaves it out gets a value (a default, an
    /// identity or auto-increment, a generated column).
    pub has_default: bool,
}

/// Where a schema came from, named in the note of every diagnostic that uses it.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Introspected from a database (or its cache file).
    Table {
        /// The database.
        database: Database,
        /// The table as the config names it; `None` for a query's result.
        name: Option<String>,
        /// The cache file it was read from or written to, relative to the crate.
        cache: Option<String>,
    },
    /// Declared with `record_schema:` in the config.
    Declared {
        /// Where the declaration is.
        loc: Loc,
    },
    /// A `contract:` block.
    Contract {
        /// Where the contract is.
        loc: Loc,
    },
    /// The output of a transform, from an upstream schema.
    Transform {
        /// The transform's type (`flatten`, `rename_keys`).
        name: String,
        /// The schema it mapped.
        from: Box<Origin>,
    },
}

impl Origin {
    /// The note added to diagnostics: "the fields come from …".
    pub fn note(&self) -> String {
        match self {
            Origin::Table { database, name, cache } => {
                let what = match name {
                    Some(name) => format!("{} table `{name}`", database.name()),
                    None => format!("the query's result as {} describes it", database.name()),
                };
                match cache {
                    Some(cache) => format!("the fields come from {what} (cached in `{cache}`)"),
                    None => format!("the fields come from {what}"),
                }
            }
            Origin::Declared { loc } => {
                format!("the fields come from the `record_schema` declared at {}", loc.short())
            }
            Origin::Contract { loc } => format!("the fields come from the `contract` at {}", loc.short()),
            Origin::Transform { name, from } => {
                format!("{}, as mapped by `{name}`", from.note())
            }
        }
    }
}
