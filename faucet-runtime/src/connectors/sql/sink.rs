//! What the `sqlite`, `postgres` and `mysql` sinks share, whatever their SQL
//! dialect: the commit-token bookkeeping (a batch's rejected rows kept in its
//! token row, replayed when a resumed run meets the batch again), the sorting
//! of a batch into deletes and writes by write mode and key, and the grouping
//! of rows by the columns they carry.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::config::sql::{DeleteMarker, UnmappedFields, WriteMode};
use crate::error::{ErrorKind, FaucetError, Result};
use crate::page::{CommitToken, Record};
use crate::schema::Field;
use crate::sink::{RowFailure, WriteOutcome};

/// The table that holds each scope's last committed token.
pub(crate) const TOKEN_TABLE: &str = "_faucet_commit_token";

/// Checks a table or schema name that was read from the environment at run
/// time by the rule the generator applies to a written one: 1 to 63 bytes,
/// no NUL (it is then quoted, so case and spaces are kept). The `postgres` and
/// `mysql` sources' `table` and `schema` are checked with it too.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn check_identifier(key: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.contains('\0') || name.len() > 63 {
        return Err(FaucetError::config(format!(
            "`{key}` must be a name of 1 to 63 bytes without NUL, found {name:?}"
        )));
    }
    Ok(())
}

/// The scopes among `scopes` that belong to a lineage of `state_key`: the
/// driver's `key::lineage`, with a run id (`::run`) for a source that does not
/// replay pages, and `::dlq` for a dead-letter sink. A matrix child's keys
/// (`key::suffix`) do not match, because a lineage is 32 hex digits.
fn lineage_scopes(state_key: &str, scopes: Vec<String>) -> Vec<String> {
    let is_id = |id: &str| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let matches = |scope: &str| {
        let Some(rest) = scope.strip_prefix(state_key).and_then(|r| r.strip_prefix("::")) else {
            return false;
        };
        let rest = rest.strip_suffix("::dlq").unwrap_or(rest);
        match rest.split_once("::") {
            None => is_id(rest),
            Some((lineage, run)) => is_id(lineage) && is_id(run),
        }
    };
    scopes.into_iter().filter(|scope| matches(scope)).collect()
}

/// Fails when `scopes` (the scopes in the sink's `token_table` with tokens for
/// `target_table`; `target` is the token rows' `target` value where the table
/// has that column) hold tokens of an earlier lineage of `state_key`, whose
/// bookmark the state store lost: the run would write those batches again.
/// The error says how to proceed.
pub(crate) fn refuse_earlier_lineage(
    connector: &str,
    state_key: &str,
    token_table: &str,
    target_table: &str,
    target: Option<&str>,
    scopes: Vec<String>,
) -> Result<()> {
    let earlier = lineage_scopes(state_key, scopes);
    if earlier.is_empty() {
        return Ok(());
    }
    let literal = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let listed = earlier.iter().map(|s| literal(s)).collect::<Vec<_>>().join(", ");
    let and_target = target.map(|t| format!(" AND target = {}", literal(t))).unwrap_or_default();
    Err(FaucetError::state(format!(
        "{connector}: the state store has no bookmark for `{state_key}`, but {token_table} holds commit tokens \
         of {} earlier run lineage(s) of it: the state was lost or reset, and this run would write again what \
         those runs wrote to {target_table}. Nothing was written. To proceed, either reset the sink (delete \
         the rows those runs wrote from {target_table}, then `DELETE FROM {token_table} WHERE scope IN \
         ({listed}){and_target}`) and rerun, or rerun with `--force-new-lineage` (`RunOptions::force_new_lineage`) to \
         write everything again on top of what is there. Adopting the sink's position is not possible: a \
         token records only the page number, not the source position",
        earlier.len()
    )))
}

/// A row failure as kept in the token row, to repeat it after a crash.
#[derive(Debug, Clone)]
pub(crate) struct StoredFailure {
    pub(crate) part: u32,
    pub(crate) index: usize,
    pub(crate) kind: String,
    pub(crate) message: String,
}

impl StoredFailure {
    /// A row the sink rejected (kind `Sink`).
    pub(crate) fn sink(part: u32, index: usize, message: String) -> StoredFailure {
        StoredFailure { part, index, kind: "Sink".to_owned(), message }
    }

    fn to_json(&self) -> Value {
        json!({ "part": self.part, "index": self.index, "kind": self.kind, "message": self.message })
    }

    /// Reads one stored failure; `kind` may be absent (written as `Sink` then).
    fn from_json(value: &Value) -> Option<StoredFailure> {
        Some(StoredFailure {
            part: u32::try_from(value.get("part")?.as_u64()?).ok()?,
            index: usize::try_from(value.get("index")?.as_u64()?).ok()?,
            kind: value.get("kind").and_then(Value::as_str).unwrap_or("Sink").to_owned(),
            message: value.get("message")?.as_str()?.to_owned(),
        })
    }

    pub(crate) fn to_row_failure(&self) -> RowFailure {
        RowFailure {
            index: self.index,
            error: FaucetError::new(ErrorKind::from_name(&self.kind), &self.message),
        }
    }
}

/// A scope's last committed token and the failures recorded for its page.
#[derive(Debug)]
pub(crate) struct Committed {
    pub(crate) token: CommitToken,
    pub(crate) failures: Vec<StoredFailure>,
}

impl Committed {
    /// Reads a token row (`seq`, `part`, `failures` as JSON text); `connector`
    /// and `scope` name it in the error when it is corrupt.
    pub(crate) fn parse(
        connector: &str,
        scope: &str,
        seq: i64,
        part: i64,
        failures: &str,
    ) -> Result<Committed> {
        let corrupt = |what: &str| {
            FaucetError::sink(format!(
                "{connector}: the commit token of scope `{scope}` in {TOKEN_TABLE} is corrupt ({what})"
            ))
        };
        let token = CommitToken {
            seq: u64::try_from(seq).map_err(|_| corrupt("seq"))?,
            part: u32::try_from(part).map_err(|_| corrupt("part"))?,
        };
        let parsed: Value = serde_json::from_str(failures).map_err(|_| corrupt("failures"))?;
        let failures = parsed
            .as_array()
            .and_then(|a| a.iter().map(StoredFailure::from_json).collect::<Option<Vec<_>>>())
            .ok_or_else(|| corrupt("failures"))?;
        Ok(Committed { token, failures })
    }

    /// The outcome of `token` when it was committed already (it is not newer
    /// than this one): no row written, the rows it rejected back then.
    pub(crate) fn replay(&self, token: CommitToken) -> Option<WriteOutcome> {
        if token > self.token {
            return None;
        }
        let failures = if self.token.seq == token.seq {
            self.failures.iter().filter(|f| f.part == token.part).map(StoredFailure::to_row_failure).collect()
        } else {
            tracing::warn!(
                seq = token.seq,
                committed_seq = self.token.seq,
                "batch committed on an earlier page than the last committed one; its rejected rows are not known any more"
            );
            Vec::new()
        };
        Some(WriteOutcome { written: 0, failures, already_committed: true })
    }
}

/// What a batch's token row records: the failures of the earlier parts of the
/// same page, then `failures` (sorted by row), and that list as JSON text.
pub(crate) fn page_failures(
    committed: Option<&Committed>,
    token: CommitToken,
    failures: &mut [StoredFailure],
) -> (Vec<StoredFailure>, String) {
    failures.sort_by_key(|f| f.index);
    let mut stored: Vec<StoredFailure> = match committed {
        Some(c) if c.token.seq == token.seq => c.failures.clone(),
        _ => Vec::new(),
    };
    stored.extend(failures.iter().cloned());
    let text = Value::Array(stored.iter().map(StoredFailure::to_json).collect()).to_string();
    (stored, text)
}

/// The outcome of a batch that was just written.
pub(crate) fn outcome(written: u64, failures: &[StoredFailure]) -> WriteOutcome {
    WriteOutcome {
        written,
        failures: failures.iter().map(StoredFailure::to_row_failure).collect(),
        already_committed: false,
    }
}

/// How a sink writes: its mode, key columns and delete marker, and what
/// `auto_map` does with a key that names no column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keying<'a> {
    pub(crate) mode: WriteMode,
    pub(crate) key: &'a [String],
    pub(crate) delete_marker: Option<&'a DeleteMarker>,
    pub(crate) unmapped: UnmappedFields,
}

/// A batch sorted by what happens to each row.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Rows that delete their key's row.
    pub(crate) deletes: Vec<usize>,
    /// Rows to insert (or upsert).
    pub(crate) writes: Vec<usize>,
    /// Rows of a key that a later row of the same batch supersedes: they count
    /// as written and are not sent.
    pub(crate) superseded: u64,
}

impl Keying<'_> {
    /// Whether `object` deletes its key's row.
    fn is_delete(&self, object: &Map<String, Value>) -> bool {
        self.mode == WriteMode::Delete
            || self.delete_marker.is_some_and(|m| object.get(&m.field).is_some_and(|v| m.values.contains(v)))
    }

    /// Why a record to write does not fit a table of `columns` (auto_map), if
    /// it does not: a key names no column (unless unmapped fields are dropped;
    /// the delete marker's field never needs one), or no key names a column.
    fn misfit(&self, object: &Map<String, Value>, columns: &[&str], table: &str) -> Option<String> {
        if self.unmapped != UnmappedFields::Drop {
            let marker = self.delete_marker.map(|m| m.field.as_str());
            if let Some(key) =
                object.keys().find(|k| Some(k.as_str()) != marker && !columns.contains(&k.as_str()))
            {
                return Some(unmapped_key(key, table));
            }
        }
        (!columns.iter().any(|c| object.contains_key(*c))).then(|| no_matching_key(table))
    }

    /// Sorts `batch` into deletes and writes. A record that is not an object,
    /// lacks a key field (or holds null there), or — when `columns` is given
    /// (auto_map) — does not fit the table's columns (see `misfit`) is added
    /// to `failures`. Within the batch the last record of a key wins.
    pub(crate) fn plan(
        &self,
        batch: &[Record],
        columns: Option<&[&str]>,
        table: &str,
        part: u32,
        failures: &mut Vec<StoredFailure>,
    ) -> Plan {
        let keyed = self.mode != WriteMode::Append;
        let mut plan = Plan::default();
        // Rows failed already (keys that cannot name a column of a new table).
        let failed: Vec<usize> = failures.iter().filter(|f| f.part == part).map(|f| f.index).collect();
        let mut last_by_key: HashMap<String, usize> = HashMap::new();
        // The last record that fit the columns: one with the same keys fits too.
        let mut fitting: Option<&Map<String, Value>> = None;
        let key_text = |object: &Map<String, Value>| {
            let key: Vec<&Value> = self.key.iter().map(|k| &object[k.as_str()]).collect();
            serde_json::to_string(&key).unwrap_or_default()
        };
        for (index, record) in batch.iter().enumerate() {
            if failed.contains(&index) {
                continue;
            }
            let Some(object) = record.as_object() else {
                let message = format!("record is not an object, so it cannot be a row of {table}");
                failures.push(StoredFailure::sink(part, index, message));
                continue;
            };
            let is_delete = self.is_delete(object);
            if !is_delete
                && let Some(columns) = columns
                && !fitting.is_some_and(|f| same_object_keys(f, object))
            {
                if let Some(message) = self.misfit(object, columns, table) {
                    failures.push(StoredFailure::sink(part, index, message));
                    continue;
                }
                fitting = Some(object);
            }
            if keyed {
                if let Some(missing) =
                    self.key.iter().find(|k| object.get(k.as_str()).is_none_or(Value::is_null))
                {
                    failures.push(StoredFailure::sink(part, index, missing_key(missing)));
                    continue;
                }
                last_by_key.insert(key_text(object), index);
            }
            if is_delete { plan.deletes.push(index) } else { plan.writes.push(index) }
        }
        if keyed {
            let latest = |index: &usize| {
                let object = batch[*index].as_object().expect("sorted rows are objects");
                last_by_key.get(&key_text(object)) == Some(index)
            };
            let before = plan.deletes.len() + plan.writes.len();
            plan.deletes.retain(latest);
            plan.writes.retain(latest);
            plan.superseded = (before - plan.deletes.len() - plan.writes.len()) as u64;
        }
        plan
    }
}

/// Why a record is not written: its key `key` names no column of `table`.
pub(crate) fn unmapped_key(key: &str, table: &str) -> String {
    format!(
        "record key {key:?} names no column of table {table} (set `unmapped_fields: add_column` \
         to add missing columns, or `unmapped_fields: drop` to write records without such keys)"
    )
}

/// Why a record is not written: none of its keys names a column of `table`.
pub(crate) fn no_matching_key(table: &str) -> String {
    format!("record has no key matching a column of table {table}")
}

/// Why a record is not written or deleted: its key field `field` is missing or null.
pub(crate) fn missing_key(field: &str) -> String {
    format!("key field `{field}` is missing or null")
}

/// `rows` of `batch` grouped by the set of `columns` each one carries (as
/// column positions, in table order), so that a column a record does not
/// mention keeps its default on insert and its stored value on update.
///
/// A record with the same keys, in the same order, as the row before it (the
/// usual case) joins that row's group after one string comparison per key,
/// without a lookup per column.
pub(crate) fn shapes(batch: &[Record], rows: Vec<usize>, columns: &[&str]) -> Vec<(Vec<usize>, Vec<usize>)> {
    let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    let mut by_shape: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut previous: Option<(&Record, usize)> = None;
    for index in rows {
        if let Some((before, group)) = previous
            && same_keys(before, &batch[index])
        {
            groups[group].1.push(index);
            continue;
        }
        let object = batch[index].as_object();
        let shape: Vec<usize> =
            (0..columns.len()).filter(|&c| object.is_some_and(|o| o.contains_key(columns[c]))).collect();
        let group = *by_shape.entry(shape.clone()).or_insert_with(|| {
            groups.push((shape, Vec::new()));
            groups.len() - 1
        });
        groups[group].1.push(index);
        previous = Some((&batch[index], group));
    }
    groups
}

/// True when `a` and `b` are objects with the same keys in the same order.
fn same_keys(a: &Record, b: &Record) -> bool {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => same_object_keys(a, b),
        _ => false,
    }
}

/// True when `a` and `b` have the same keys in the same order.
fn same_object_keys(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len() && a.keys().zip(b.keys()).all(|(x, y)| x == y)
}

/// Looks a record's fields up in a fixed order: one string comparison per
/// field while the record holds them in that order (a row read from a table
/// with the same columns), a hash lookup otherwise.
#[cfg(feature = "postgres")]
pub(crate) struct FieldsInOrder<'r> {
    /// The record's map and its entries not passed yet; `None` for a non-object.
    object: Option<(&'r Map<String, Value>, serde_json::map::Iter<'r>)>,
}

#[cfg(feature = "postgres")]
impl<'r> FieldsInOrder<'r> {
    /// A cursor over `record`'s fields (none when it is not an object).
    pub(crate) fn new(record: &'r Record) -> Self {
        FieldsInOrder { object: record.as_object().map(|map| (map, map.iter())) }
    }

    /// The value of `field`, if the record has it.
    pub(crate) fn get(&mut self, field: &str) -> Option<&'r Value> {
        let (map, next) = self.object.as_mut()?;
        let mut ahead = next.clone();
        if let Some((key, value)) = ahead.next()
            && key == field
        {
            *next = ahead;
            return Some(value);
        }
        map.get(field)
    }
}

/// What a database accepts as a column name, for `create_table`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnNames {
    /// The database, for messages.
    pub(crate) dialect: &'static str,
    /// The longest name in bytes (PostgreSQL truncates longer ones silently).
    pub(crate) max_bytes: Option<usize>,
    /// The longest name in characters.
    pub(crate) max_chars: Option<usize>,
    /// Whether the empty name is refused.
    pub(crate) refuses_empty: bool,
    /// Whether names ending in a space are refused.
    pub(crate) refuses_trailing_space: bool,
    /// How the database compares names (two keys that fold alike name one column).
    pub(crate) fold: fn(&str) -> String,
}

impl ColumnNames {
    /// Why `key` cannot name a column, if it cannot.
    fn refuse(&self, key: &str) -> Option<String> {
        if key.contains('\0') {
            return Some("it contains a NUL character".to_owned());
        }
        if let Some(max) = self.max_bytes.filter(|&m| key.len() > m) {
            return Some(format!(
                "it is {} bytes long, longer than the {max} {} allows",
                key.len(),
                self.dialect
            ));
        }
        if let Some(max) = self.max_chars.filter(|&m| key.chars().count() > m) {
            return Some(format!("it is longer than the {max} characters {} allows", self.dialect));
        }
        if self.refuses_empty && key.is_empty() {
            return Some(format!("{} refuses an empty name", self.dialect));
        }
        if self.refuses_trailing_space && key.ends_with(' ') {
            return Some(format!("{} refuses names ending in a space", self.dialect));
        }
        None
    }
}

/// The rows of `batch` whose keys cannot become the columns of a table
/// created from it, each with the reason: a key that cannot name a column
/// (a NUL, too long), or that names the same column as another key (`id` and
/// `ID` where names ignore case; the first one seen keeps the name).
pub(crate) fn unnameable_rows(batch: &[Record], names: ColumnNames, table: &str) -> Vec<(usize, String)> {
    let mut claimed: HashMap<String, &str> = HashMap::new();
    let mut bad = Vec::new();
    for (index, record) in batch.iter().enumerate() {
        let Some(object) = record.as_object() else { continue };
        let problem = object.keys().find_map(|key| {
            if let Some(why) = names.refuse(key) {
                return Some(format!("key {key:?} cannot name a column of {table}: {why}"));
            }
            let folded = (names.fold)(key);
            match claimed.get(&folded) {
                Some(&first) if first != key => Some(format!(
                    "keys {first:?} and {key:?} would name the same column of {table} ({} compares column names ignoring case)",
                    names.dialect
                )),
                _ => None,
            }
        });
        match problem {
            Some(message) => bad.push((index, message)),
            None => {
                for key in object.keys() {
                    claimed.entry((names.fold)(key)).or_insert(key);
                }
            }
        }
    }
    bad
}

/// What `unmapped_fields: add_column` adds to a table of `columns` for `batch`:
/// a column per key of a record to write that names none yet (first-seen
/// order, typed by `type_of` of its first non-null value, `fallback` when all
/// are null, as `create_table` types them), and the records whose new keys
/// cannot name a column, each with the reason. Deletes and the delete
/// marker's field add no column.
pub(crate) fn new_columns(
    keying: &Keying<'_>,
    batch: &[Record],
    columns: &[&str],
    names: ColumnNames,
    type_of: impl Fn(&Value) -> &'static str,
    fallback: &'static str,
    table: &str,
) -> NewColumns {
    let marker = keying.delete_marker.map(|m| m.field.as_str());
    let mut claimed: HashMap<String, String> =
        columns.iter().map(|c| ((names.fold)(c), (*c).to_owned())).collect();
    let mut added: Vec<(String, Option<&'static str>)> = Vec::new();
    let mut bad = Vec::new();
    let mut fitting: Option<&Map<String, Value>> = None;
    for (index, record) in batch.iter().enumerate() {
        let Some(object) = record.as_object() else { continue };
        if keying.is_delete(object) || fitting.is_some_and(|f| same_object_keys(f, object)) {
            continue;
        }
        let new = |k: &&String| Some(k.as_str()) != marker && !columns.contains(&k.as_str());
        let problem = object.keys().filter(new).find_map(|key| {
            if let Some(why) = names.refuse(key) {
                return Some(format!("key {key:?} cannot name a column of {table}: {why}"));
            }
            match claimed.get(&(names.fold)(key)) {
                Some(first) if first != key => Some(format!(
                    "key {key:?} and {first:?} would name the same column of {table} ({} compares column names ignoring case)",
                    names.dialect
                )),
                _ => None,
            }
        });
        if let Some(message) = problem {
            bad.push((index, message));
            continue;
        }
        for (key, value) in object.iter().filter(|(k, _)| new(k)) {
            claimed.entry((names.fold)(key)).or_insert_with(|| key.clone());
            let i = match added.iter().position(|(name, _)| name == key) {
                Some(i) => i,
                None => {
                    added.push((key.clone(), None));
                    added.len() - 1
                }
            };
            if added[i].1.is_none() && !value.is_null() {
                added[i].1 = Some(type_of(value));
            }
        }
        if added.iter().all(|(_, ty)| ty.is_some()) {
            fitting = Some(object);
        }
    }
    NewColumns {
        added: added.into_iter().map(|(name, ty)| (name, ty.unwrap_or(fallback))).collect(),
        refused: bad,
    }
}

/// What [`new_columns`] found: the columns to add (name and type) and the
/// rows refused (index and reason).
#[derive(Debug)]
pub(crate) struct NewColumns {
    pub(crate) added: Vec<(String, &'static str)>,
    pub(crate) refused: Vec<(usize, String)>,
}

/// The columns of a table `create_table` makes: one per declared field, in
/// order, typed by `declared_type`, then the `inferred` ones (see
/// [`infer_columns`]) of record keys that are not declared. A declared name
/// that cannot name a column (by `names`' rule, or folding onto one before
/// it) makes none: records holding that key are dead-lettered as without a
/// schema (see [`unnameable_rows`]).
pub(crate) fn create_columns(
    declared: Option<&[Field]>,
    inferred: Vec<(String, &'static str)>,
    names: ColumnNames,
    declared_type: impl Fn(&Field) -> String,
) -> Vec<(String, String)> {
    let mut columns: Vec<(String, String)> = Vec::new();
    let mut folded: Vec<String> = Vec::new();
    for field in declared.unwrap_or_default() {
        let fold = (names.fold)(field.name);
        if names.refuse(field.name).is_none() && !folded.contains(&fold) {
            folded.push(fold);
            columns.push((field.name.to_owned(), declared_type(field)));
        }
    }
    for (name, ty) in inferred {
        if !folded.contains(&(names.fold)(&name)) {
            columns.push((name, ty.to_owned()));
        }
    }
    columns
}

/// The type of a column [`new_columns`] adds: the declared field's type when
/// the key is declared (without `NOT NULL`: the table has rows already),
/// else `inferred`.
pub(crate) fn added_type(
    declared: Option<&[Field]>,
    name: &str,
    inferred: &'static str,
    declared_type: impl Fn(&Field) -> String,
) -> String {
    match declared.unwrap_or_default().iter().find(|f| f.name == name) {
        Some(field) => declared_type(&Field { nullable: true, ..*field }),
        None => inferred.to_owned(),
    }
}

/// One column per key of `rows` (first-seen order), typed by `type_of` of
/// its first non-null value (`fallback` when it is null everywhere).
pub(crate) fn infer_columns<'r>(
    rows: impl Iterator<Item = &'r Record>,
    type_of: impl Fn(&Value) -> &'static str,
    fallback: &'static str,
) -> Vec<(String, &'static str)> {
    let mut columns: Vec<(String, Option<&'static str>)> = Vec::new();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for (key, value) in rows.filter_map(Value::as_object).flat_map(Map::iter) {
        let i = *position.entry(key.as_str()).or_insert_with(|| {
            columns.push((key.clone(), None));
            columns.len() - 1
        });
        if columns[i].1.is_none() && !value.is_null() {
            columns[i].1 = Some(type_of(value));
        }
    }
    columns.into_iter().map(|(name, ty)| (name, ty.unwrap_or(fallback))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lineages_of_the_same_state_key_count_as_earlier() {
        let (a, b) = ("0".repeat(32), "f".repeat(32));
        let scopes = [
            format!("p::row-0::{a}"),
            format!("p::row-0::{a}::{b}"),
            format!("p::row-0::{a}::dlq"),
            // A matrix child's key, another row, another pipeline, a short id.
            format!("p::row-0::child::{a}"),
            format!("p::row-1::{a}"),
            format!("q::row-0::{a}"),
            "p::row-0::abc".to_owned(),
        ];
        let found = lineage_scopes("p::row-0", scopes.to_vec());
        assert_eq!(found, scopes[..3].to_vec());
        assert!(refuse_earlier_lineage("x", "p::row-0", "t", "u", None, scopes[3..].to_vec()).is_ok());
        let err = refuse_earlier_lineage("x", "p::row-0", "t", "u", Some("it's"), scopes[..1].to_vec());
        let message = err.unwrap_err().to_string();
        assert!(
            message.contains(&format!("WHERE scope IN ('p::row-0::{a}') AND target = 'it''s'")),
            "{message}"
        );
    }

    #[test]
    fn upsert_plans_keep_the_last_record_of_a_key_and_reject_missing_keys() {
        let key = vec!["id".to_owned()];
        let marker = DeleteMarker { field: "op".into(), values: vec![json!("d")] };
        let keying = Keying {
            mode: WriteMode::Upsert,
            key: &key,
            delete_marker: Some(&marker),
            unmapped: UnmappedFields::Drop,
        };
        let batch = vec![
            json!({"id": 1, "v": "a"}),
            json!({"id": 2, "op": "d"}),
            json!({"id": 1, "v": "b"}),
            json!({"id": null, "v": "c"}),
            json!({"v": "d"}),
            json!(7),
            json!({"id": 3, "other": 1}),
        ];
        let mut failures = Vec::new();
        let plan = keying.plan(&batch, Some(&["id", "v"]), "t", 4, &mut failures);
        assert_eq!(plan.writes, [2, 6]);
        assert_eq!(plan.deletes, [1]);
        assert_eq!(plan.superseded, 1);
        let failed: Vec<(u32, usize)> = failures.iter().map(|f| (f.part, f.index)).collect();
        assert_eq!(failed, [(4, 3), (4, 4), (4, 5)]);
        assert!(failures[0].message.contains("key field `id` is missing or null"));

        // auto_map rejects a record matching no column; a jsonb/json mapping does not look.
        let append =
            Keying { mode: WriteMode::Append, key: &[], delete_marker: None, unmapped: UnmappedFields::Drop };
        let mut failures = Vec::new();
        let plan = append.plan(&batch[4..], Some(&["id"]), "t", 0, &mut failures);
        assert_eq!((plan.writes, failures.len()), (vec![2], 2));
        let plan = append.plan(&batch[4..], None, "t", 0, &mut Vec::new());
        assert_eq!(plan.writes, [0, 2]);
    }

    #[test]
    fn unmapped_keys_are_dead_lettered_by_name_or_become_new_columns() {
        let key = vec!["id".to_owned()];
        let marker = DeleteMarker { field: "op".into(), values: vec![json!("d")] };
        let dlq = Keying {
            mode: WriteMode::Upsert,
            key: &key,
            delete_marker: Some(&marker),
            unmapped: UnmappedFields::Dlq,
        };
        let batch = vec![
            json!({"id": 1, "v": "a", "op": "u"}),
            json!({"id": 2, "v": "b", "extra": 1}),
            json!({"id": 3, "gone": true, "op": "d"}),
            json!({"id": 4, "v": "c", "op": "u"}),
            json!({"id": 5, "more": null}),
            json!({"id": 6, "Extra": "x", "more": [1]}),
        ];
        let mut failures = Vec::new();
        let plan = dlq.plan(&batch, Some(&["id", "v"]), "t", 0, &mut failures);
        // The marker field needs no column; deletes are not checked.
        assert_eq!((plan.writes, plan.deletes), (vec![0, 3], vec![2]));
        let failed: Vec<(usize, &str)> = failures.iter().map(|f| (f.index, f.message.as_str())).collect();
        assert_eq!(failed.iter().map(|f| f.0).collect::<Vec<_>>(), [1, 4, 5]);
        assert!(
            failed[0].1.starts_with("record key \"extra\" names no column of table t"),
            "{}",
            failed[0].1
        );
        assert!(failed[0].1.contains("unmapped_fields: add_column"), "{}", failed[0].1);

        let add = Keying { unmapped: UnmappedFields::AddColumn, ..dlq };
        let names = ColumnNames {
            dialect: "D",
            max_bytes: Some(5),
            max_chars: None,
            refuses_empty: true,
            refuses_trailing_space: false,
            fold: str::to_ascii_lowercase,
        };
        let type_of = |v: &Value| if v.is_number() { "N" } else { "T" };
        let NewColumns { added, refused: bad } =
            new_columns(&add, &batch, &["id", "v"], names, type_of, "F", "t");
        // "Extra" folds onto "extra": its row is refused, so `more` is null wherever it is added.
        assert_eq!(added, [("extra".to_owned(), "N"), ("more".to_owned(), "F")]);
        assert_eq!(bad.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [5]);
        assert!(bad[0].1.contains("\"Extra\" and \"extra\" would name the same column"), "{}", bad[0].1);
        let bad = new_columns(&add, &[json!({"toolong": 1})], &["id"], names, type_of, "F", "t").refused;
        assert!(bad[0].1.contains("cannot name a column of t"), "{}", bad[0].1);
    }

    #[test]
    fn stored_failures_round_trip_and_replay_only_their_part() {
        let mut failures = vec![StoredFailure::sink(1, 9, "b".into()), StoredFailure::sink(1, 2, "a".into())];
        let (stored, text) = page_failures(None, CommitToken { seq: 3, part: 1 }, &mut failures);
        assert_eq!(stored.iter().map(|f| f.index).collect::<Vec<_>>(), [2, 9]);
        let committed = Committed::parse("sqlite", "s", 3, 1, &text).unwrap();
        let replayed = committed.replay(CommitToken { seq: 3, part: 1 }).unwrap();
        assert!(replayed.already_committed);
        assert_eq!(replayed.failures.iter().map(|f| f.index).collect::<Vec<_>>(), [2, 9]);
        assert!(committed.replay(CommitToken { seq: 3, part: 0 }).unwrap().failures.is_empty());
        assert!(committed.replay(CommitToken { seq: 3, part: 2 }).is_none());
        // Failures written without a kind (older mysql token rows) read as sink errors.
        let old = Committed::parse("mysql", "s", 1, 0, r#"[{"part":0,"index":1,"message":"m"}]"#).unwrap();
        assert_eq!(old.failures[0].kind, "Sink");
        let err = Committed::parse("mysql", "s", -1, 0, "[]").unwrap_err();
        assert!(err.message().contains("corrupt (seq)"), "{err}");
    }

    #[test]
    #[cfg(feature = "postgres")]
    fn fields_in_order_find_every_field_in_any_order() {
        let record = json!({"a": 1, "b": 2, "c": 3});
        let mut fields = FieldsInOrder::new(&record);
        let got: Vec<Option<&Value>> = ["a", "b", "c", "x"].iter().map(|f| fields.get(f)).collect();
        assert_eq!(got, [Some(&json!(1)), Some(&json!(2)), Some(&json!(3)), None]);
        let mut fields = FieldsInOrder::new(&record);
        let got: Vec<Option<&Value>> = ["c", "a", "x", "b"].iter().map(|f| fields.get(f)).collect();
        assert_eq!(got, [Some(&json!(3)), Some(&json!(1)), None, Some(&json!(2))]);
        assert_eq!(FieldsInOrder::new(&json!("not an object")).get("a"), None);
    }

    #[test]
    fn declared_columns_come_first_typed_and_keys_not_declared_follow() {
        use crate::schema::FieldType;
        let names = ColumnNames {
            dialect: "D",
            max_bytes: Some(5),
            max_chars: None,
            refuses_empty: true,
            refuses_trailing_space: false,
            fold: str::to_ascii_lowercase,
        };
        let field = |name, nullable| Field { name, ty: FieldType::Integer, nullable, required: true };
        let declared = [field("id", false), field("toolong", true), field("ID", true), field("n", true)];
        let inferred = vec![("Id".to_owned(), "T"), ("x".to_owned(), "T"), ("n".to_owned(), "T")];
        let ty = |f: &Field| if f.always_set() { "INT NOT NULL".to_owned() } else { "INT".to_owned() };
        let columns = create_columns(Some(&declared), inferred.clone(), names, ty);
        let want = [("id", "INT NOT NULL"), ("n", "INT"), ("x", "T")];
        assert_eq!(columns, want.map(|(n, t)| (n.to_owned(), t.to_owned())));
        let columns = create_columns(None, inferred, names, ty);
        assert_eq!(columns.len(), 3);
        assert_eq!(added_type(Some(&declared), "id", "T", ty), "INT", "added columns are nullable");
        assert_eq!(added_type(Some(&declared), "y", "T", ty), "T");
    }

    #[test]
    fn shapes_group_rows_by_the_columns_they_carry() {
        let batch = vec![json!({"a": 1}), json!({"a": 1, "b": 2}), json!({"a": 2, "x": 0})];
        let groups = shapes(&batch, vec![0, 1, 2], &["a", "b"]);
        assert_eq!(groups, [(vec![0], vec![0, 2]), (vec![0, 1], vec![1])]);
        // Rows with the previous row's keys join its group; other orders are looked up.
        let more = vec![
            json!({"a": 1}),
            json!({"a": 1, "b": 2}),
            json!({"a": 2, "x": 0}),
            json!({"a": 3, "x": 1}),
            json!({"b": 1, "a": 2}),
            json!({"a": 5, "b": 6}),
            json!("not an object"),
        ];
        let groups = shapes(&more, (0..7).collect(), &["a", "b"]);
        assert_eq!(groups, [(vec![0], vec![0, 2, 3]), (vec![0, 1], vec![1, 4, 5]), (vec![], vec![6])]);
        let columns = infer_columns(batch.iter(), |v| if v.is_number() { "N" } else { "T" }, "T");
        assert_eq!(columns, [("a".to_owned(), "N"), ("b".to_owned(), "N"), ("x".to_owned(), "N")]);
    }
}
