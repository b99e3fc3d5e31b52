//! From a parsed ADQL query to PostgreSQL: names are resolved against the catalogue
//! metadata, every expression is type-checked, and the SQL is printed from the tree with all
//! identifiers and literals quoted by [`sql`]. Each result column gets its VOTable metadata.
//!
//! The SQL never contains text of the query other than through those quoting routines:
//! tables and columns are printed from the catalogue's names, numbers are re-printed from
//! their parsed values, strings are quoted literals.

mod expr;
pub mod functions;
mod geometry;
mod scope;
mod sql;
mod types;
pub mod units;

use std::collections::HashSet;
use std::fmt;

pub use functions::{FunctionRegistry, UserFunction};
pub use types::{ResultColumn, ValueType};

use self::scope::{Level, Source, SourceColumn};
use super::ast::*;
use super::{ParseError, Version};
use crate::catalog::{Catalog, Table};

/// An uploaded table (TAP 1.1 section 2.5.6), visible as `TAP_UPLOAD.<name>`.
#[derive(Debug, Clone)]
pub struct UploadTable {
    /// Its metadata; `table.schema` is "tap_upload".
    pub table: Table,
    /// Where the rows are, as (already quoted) SQL, e.g. `"tap_upload_0042"."mystars"`.
    pub sql_name: String,
}

/// What a query may refer to.
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    pub uploads: &'a [UploadTable],
    pub functions: &'a FunctionRegistry,
}

/// How the SQL is to be shaped.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// At most this many rows are fetched (the TAP service passes MAXREC + 1 to detect an
    /// overflow); TOP stays in force when it is smaller.
    pub row_limit: Option<u64>,
}

/// The result of compiling: the SQL and the metadata of each result column, in order.
#[derive(Debug, Clone)]
pub struct CompiledQuery {
    pub sql: String,
    pub columns: Vec<ResultColumn>,
}

/// A query that parsed but cannot run: unknown names, wrong types.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "{} (at line {line}, column {column})", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for CompileError {}

/// Any error of a query: syntax or semantics.
#[derive(Debug, Clone)]
pub enum AdqlError {
    Parse(ParseError),
    Compile(CompileError),
}

impl fmt::Display for AdqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdqlError::Parse(e) => write!(f, "syntax error: {e}"),
            AdqlError::Compile(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AdqlError {}

/// Trees up to this depth are compiled on the caller's thread: measured safe on a 2 MiB
/// stack in a debug build (the test below); deeper ones go to a thread with [`BIG_STACK`].
const INLINE_DEPTH: usize = 64;
const BIG_STACK: usize = 64 << 20;

/// Parses, checks and translates an ADQL query.
pub fn compile(text: &str, version: Version, context: &Context, options: &Options) -> std::result::Result<CompiledQuery, AdqlError> {
    let (query, depth) = super::parse_with_depth(text, version).map_err(AdqlError::Parse)?;
    if depth <= INLINE_DEPTH {
        return compile_query(&query, context, options).map_err(AdqlError::Compile);
    }
    // The compiler, like dropping the tree, recurses once per level: deep trees are walked
    // (and dropped) on a thread with a large stack, so no query can overflow the caller's.
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new().name("adql-compiler".into()).stack_size(BIG_STACK).spawn_scoped(scope, move || {
            let result = compile_query(&query, context, options);
            drop(query);
            result
        });
        match worker {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(error("internal error: the ADQL compiler thread failed", None)))
                .map_err(AdqlError::Compile),
            Err(e) => Err(AdqlError::Compile(error(format!("cannot start a thread to compile a deeply nested query: {e}"), None))),
        }
    })
}

/// Checks and translates a parsed query.
pub fn compile_query(query: &Query, context: &Context, options: &Options) -> std::result::Result<CompiledQuery, CompileError> {
    let mut compiler = Compiler { context, levels: Vec::new(), ctes: Vec::new(), aliases: HashSet::new(), depth: 0 };
    let out = compiler.query(query, true, options.row_limit)?;
    Ok(CompiledQuery { sql: out.sql, columns: out.columns.into_iter().map(|c| c.meta).collect() })
}

type Result<T> = std::result::Result<T, CompileError>;

pub(crate) fn error(message: impl Into<String>, at: Option<&Ident>) -> CompileError {
    CompileError {
        message: message.into(),
        line: at.map(|i| i.span.line).filter(|l| *l > 0),
        column: at.map(|i| i.span.column).filter(|c| *c > 0),
    }
}

/// A column of a (sub)query's result.
#[derive(Debug, Clone)]
struct OutColumn {
    name: Ident,
    meta: ResultColumn,
}

struct QueryOut {
    sql: String,
    columns: Vec<OutColumn>,
}

/// A common table expression visible to the query being compiled.
struct CteInfo {
    name: Ident,
    sql_name: String,
    columns: Vec<OutColumn>,
}

/// Nesting deeper than this is refused (the parser limits depth too; this guards the
/// compiler's own recursion through subqueries).
const MAX_DEPTH: usize = 100;

pub(crate) struct Compiler<'a> {
    context: &'a Context<'a>,
    /// FROM levels, innermost last (subqueries see the columns of enclosing queries).
    levels: Vec<Level>,
    /// CTE frames, innermost last.
    ctes: Vec<Vec<CteInfo>>,
    /// SQL aliases already used in this statement: every FROM item gets a distinct one, so
    /// correlated references can never be captured by an inner name.
    aliases: HashSet<String>,
    depth: usize,
}

impl<'a> Compiler<'a> {
    fn query(&mut self, query: &Query, top: bool, row_limit: Option<u64>) -> Result<QueryOut> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error("the query nests subqueries too deeply", None));
        }
        let result = self.query_inner(query, top, row_limit);
        self.depth -= 1;
        result
    }

    fn query_inner(&mut self, query: &Query, top: bool, row_limit: Option<u64>) -> Result<QueryOut> {
        self.ctes.push(Vec::new());
        let result = self.query_with_ctes(query, top, row_limit);
        self.ctes.pop();
        result
    }

    fn query_with_ctes(&mut self, query: &Query, top: bool, row_limit: Option<u64>) -> Result<QueryOut> {
        let mut with = Vec::new();
        for cte in &query.with {
            if self.ctes.last().is_some_and(|f| f.iter().any(|c| c.name.matches(&cte.name))) {
                return Err(error(format!("the WITH name {} is defined twice", cte.name.value), Some(&cte.name)));
            }
            let out = self.query(&cte.query, false, None)?;
            let sql_name = self.fresh_alias(&cte.name.value);
            with.push(format!("{} AS ({})", sql::ident(&sql_name), out.sql));
            if let Some(frame) = self.ctes.last_mut() {
                frame.push(CteInfo { name: cte.name.clone(), sql_name, columns: out.columns });
            }
        }
        let mut out = match &query.body {
            SetExpr::Select(select) => self.select(select, &query.order_by, query.offset, top, row_limit)?,
            body => {
                let inner = self.set_expr(body)?;
                self.finish_set_operation(inner, &query.order_by, query.offset, top, row_limit)?
            }
        };
        if !with.is_empty() {
            out.sql = format!("WITH {} {}", with.join(", "), out.sql);
        }
        Ok(out)
    }

    /// An operand of a set operation, or a whole set operation.
    fn set_expr(&mut self, body: &SetExpr) -> Result<QueryOut> {
        match body {
            SetExpr::Select(select) => {
                let out = self.select(select, &[], None, false, None)?;
                Ok(QueryOut { sql: format!("({})", out.sql), columns: out.columns })
            }
            SetExpr::Query(query) => {
                let out = self.query(query, false, None)?;
                Ok(QueryOut { sql: format!("({})", out.sql), columns: out.columns })
            }
            SetExpr::SetOperation { op, all, left, right } => {
                let left = self.set_expr(left)?;
                let right = self.set_expr(right)?;
                if left.columns.len() != right.columns.len() {
                    return Err(error(
                        format!(
                            "the two sides of {} have {} and {} columns: they must have the same number",
                            set_operator_name(*op),
                            left.columns.len(),
                            right.columns.len()
                        ),
                        None,
                    ));
                }
                let mut columns = Vec::with_capacity(left.columns.len());
                for (i, (l, r)) in left.columns.iter().zip(&right.columns).enumerate() {
                    let unified = unify(l.meta.value_type, r.meta.value_type).ok_or_else(|| {
                        error(
                            format!(
                                "column {} of {} is {} on the left but {} on the right",
                                i + 1,
                                set_operator_name(*op),
                                l.meta.value_type.describe(),
                                r.meta.value_type.describe()
                            ),
                            None,
                        )
                    })?;
                    let meta = if unified == l.meta.value_type {
                        l.meta.clone()
                    } else {
                        ResultColumn::computed(l.meta.name.clone(), unified)
                    };
                    columns.push(OutColumn { name: l.name.clone(), meta });
                }
                let keyword = set_operator_name(*op);
                let sql = format!("({} {keyword}{} {})", left.sql, if *all { " ALL" } else { "" }, right.sql);
                Ok(QueryOut { sql, columns })
            }
        }
    }

    /// ORDER BY / OFFSET / LIMIT of a set operation refer to its result columns; at the top
    /// the result is wrapped so that every column can be cast to its announced type.
    fn finish_set_operation(
        &mut self,
        inner: QueryOut,
        order_by: &[OrderByItem],
        offset: Option<u64>,
        top: bool,
        row_limit: Option<u64>,
    ) -> Result<QueryOut> {
        let mut seen = HashSet::new();
        for column in &inner.columns {
            if !seen.insert(column.name.value.to_ascii_lowercase()) {
                return Err(error(
                    format!("the result of the set operation has two columns named {}: give one an alias", column.name.value),
                    Some(&column.name),
                ));
            }
        }
        let alias = self.fresh_alias("result");
        let mut order = Vec::new();
        for item in order_by {
            let key = match &item.expr {
                Expr::Literal(Literal::Number { text, kind: NumberKind::Integer }) => {
                    position(text, inner.columns.len())?.to_string()
                }
                Expr::Column(ColumnRef { qualifier, column }) if qualifier.is_empty() => {
                    let found = inner.columns.iter().find(|c| c.name.matches(column)).ok_or_else(|| {
                        error(format!("ORDER BY {}: a set operation is ordered by its result columns only", column.value), Some(column))
                    })?;
                    format!("{}.{}", sql::ident(&alias), sql::ident(&found.name.value))
                }
                _ => return Err(error("a set operation is ordered by result column names or positions only", None)),
            };
            order.push(format!("{key}{}", direction(item.direction)));
        }
        let items: Vec<String> = inner
            .columns
            .iter()
            .map(|c| {
                let reference = format!("{}.{}", sql::ident(&alias), sql::ident(&c.name.value));
                let value = if top { cast(&reference, c.meta.value_type) } else { reference };
                format!("{value} AS {}", sql::ident(&c.name.value))
            })
            .collect();
        let mut sql = format!("SELECT {} FROM {} AS {}", items.join(", "), inner.sql, sql::ident(&alias));
        if !order.is_empty() {
            sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
        }
        if let Some(limit) = if top { row_limit } else { None } {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        if let Some(offset) = offset {
            sql.push_str(&format!(" OFFSET {offset}"));
        }
        Ok(QueryOut { sql, columns: inner.columns })
    }

    fn select(
        &mut self,
        select: &Select,
        order_by: &[OrderByItem],
        offset: Option<u64>,
        top: bool,
        row_limit: Option<u64>,
    ) -> Result<QueryOut> {
        self.levels.push(Level::default());
        let result = self.select_in_level(select, order_by, offset, top, row_limit);
        self.levels.pop();
        result
    }

    fn select_in_level(
        &mut self,
        select: &Select,
        order_by: &[OrderByItem],
        offset: Option<u64>,
        top: bool,
        row_limit: Option<u64>,
    ) -> Result<QueryOut> {
        let mut from = Vec::new();
        for item in &select.from {
            from.push(self.from_item(item)?);
        }
        let selection = match &select.selection {
            Some(condition) => Some(self.condition(condition)?),
            None => None,
        };

        // The select list.
        let mut items = Vec::new();
        let mut columns = Vec::new();
        for (index, item) in select.projection.iter().enumerate() {
            match item {
                SelectItem::Wildcard => {
                    let level = self.levels.last().cloned().unwrap_or_default();
                    for source in &level.sources {
                        self.expand(source, &mut items, &mut columns);
                    }
                }
                SelectItem::QualifiedWildcard(name) => {
                    let level = self.levels.last().cloned().unwrap_or_default();
                    let source = level.sources.iter().find(|s| s.answers_to(&name.0)).ok_or_else(|| {
                        error(format!("{}.* names no table of the FROM clause", join_idents(&name.0)), name.0.first())
                    })?;
                    self.expand(source, &mut items, &mut columns);
                }
                SelectItem::Expr { expr, alias } => {
                    let typed = self.value(expr)?;
                    let name = match alias {
                        Some(alias) => alias.clone(),
                        None => Ident::new(typed.name.clone().unwrap_or_else(|| format!("col{}", index + 1))),
                    };
                    let meta = match typed.meta {
                        Some(meta) => meta.renamed(name.value.clone()),
                        None => ResultColumn::computed(name.value.clone(), typed.ty),
                    };
                    items.push(typed.sql);
                    columns.push(OutColumn { name, meta });
                }
            }
        }
        if items.is_empty() {
            return Err(error("the select list selects no column", None));
        }

        let mut group = Vec::new();
        for expr in &select.group_by {
            group.push(self.group_or_order_key(expr, &columns)?);
        }
        let having = match &select.having {
            Some(condition) => Some(self.condition(condition)?),
            None => None,
        };
        let mut order = Vec::new();
        for item in order_by {
            order.push(format!("{}{}", self.group_or_order_key(&item.expr, &columns)?, direction(item.direction)));
        }

        let rendered: Vec<String> = items
            .iter()
            .zip(&columns)
            .map(|(sql, column)| {
                let value = if top { cast(sql, column.meta.value_type) } else { sql.clone() };
                format!("{value} AS {}", sql::ident(&column.name.value))
            })
            .collect();
        let mut sql = String::from("SELECT ");
        if select.quantifier == Some(SetQuantifier::Distinct) {
            sql.push_str("DISTINCT ");
        }
        sql.push_str(&rendered.join(", "));
        sql.push_str(" FROM ");
        sql.push_str(&from.join(", "));
        if let Some(condition) = selection {
            sql.push_str(&format!(" WHERE {condition}"));
        }
        if !group.is_empty() {
            sql.push_str(&format!(" GROUP BY {}", group.join(", ")));
        }
        if let Some(condition) = having {
            sql.push_str(&format!(" HAVING {condition}"));
        }
        if !order.is_empty() {
            sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
        }
        let limit = match (select.top, if top { row_limit } else { None }) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(limit) = limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        if let Some(offset) = offset {
            sql.push_str(&format!(" OFFSET {offset}"));
        }
        Ok(QueryOut { sql, columns })
    }

    /// `*` or `t.*`: every column of the source, except those a USING / NATURAL join merged.
    fn expand(&self, source: &Source, items: &mut Vec<String>, columns: &mut Vec<OutColumn>) {
        for column in source.columns.iter().filter(|c| !c.merged_away) {
            items.push(column.sql.clone());
            columns.push(OutColumn { name: column.name.clone(), meta: column.meta.clone().renamed(column.name.value.clone()) });
        }
    }

    /// A GROUP BY or ORDER BY key: a select-list position, a result column name, or an
    /// expression over the FROM clause.
    fn group_or_order_key(&mut self, expr: &Expr, columns: &[OutColumn]) -> Result<String> {
        if let Expr::Literal(Literal::Number { text, kind: NumberKind::Integer }) = expr {
            return Ok(position(text, columns.len())?.to_string());
        }
        if let Expr::Column(ColumnRef { qualifier, column }) = expr {
            if qualifier.is_empty() {
                let in_from = self.levels.last().map(|l| !matches!(l.resolve(&ColumnRef { qualifier: vec![], column: column.clone() }), scope::Resolved::NotFound));
                let named: Vec<&OutColumn> = columns.iter().filter(|c| c.name.matches(column)).collect();
                // A result column that is not simply a FROM column of that name (an alias):
                // refer to the result column.
                if in_from != Some(true) && named.len() == 1 {
                    return Ok(sql::ident(&named[0].name.value));
                }
            }
        }
        Ok(self.value(expr)?.sql)
    }

    /// A FROM item, registering its sources in the current level.
    fn from_item(&mut self, item: &TableRef) -> Result<String> {
        match item {
            TableRef::Table { name, alias } => {
                let (source, sql_from) = self.table_source(name, alias.as_ref())?;
                self.add_source(source)?;
                Ok(sql_from)
            }
            TableRef::Derived { subquery, alias } => {
                let out = self.query(subquery, false, None)?;
                let sql_alias = self.fresh_alias(&alias.value);
                let columns = out
                    .columns
                    .into_iter()
                    .map(|c| SourceColumn {
                        sql: format!("{}.{}", sql::ident(&sql_alias), sql::ident(&c.name.value)),
                        name: c.name,
                        meta: c.meta,
                        merged_away: false,
                    })
                    .collect();
                self.add_source(Source { alias: Some(alias.clone()), schema: None, table: None, columns })?;
                Ok(format!("({}) AS {}", out.sql, sql::ident(&sql_alias)))
            }
            TableRef::Join(join) => self.join(join),
        }
    }

    fn join(&mut self, join: &Join) -> Result<String> {
        let before = self.levels.last().map_or(0, |l| l.sources.len());
        let left = self.from_item(&join.left)?;
        let middle = self.levels.last().map_or(0, |l| l.sources.len());
        let right = self.from_item(&join.right)?;
        let keyword = match join.kind {
            JoinKind::Inner => "JOIN",
            JoinKind::LeftOuter => "LEFT OUTER JOIN",
            JoinKind::RightOuter => "RIGHT OUTER JOIN",
            JoinKind::FullOuter => "FULL OUTER JOIN",
        };
        let condition = match &join.constraint {
            JoinConstraint::On(condition) => self.condition(condition)?,
            JoinConstraint::Using(names) => self.merge_columns(before, middle, Some(names), join.kind)?,
            JoinConstraint::Natural => self.merge_columns(before, middle, None, join.kind)?,
        };
        Ok(format!("({left} {keyword} {right} ON {condition})"))
    }

    /// USING (names) or NATURAL (names = None: every common column): the equality condition,
    /// and the right-hand copies marked merged.
    fn merge_columns(&mut self, before: usize, middle: usize, names: Option<&[Ident]>, kind: JoinKind) -> Result<String> {
        let Some(level) = self.levels.last_mut() else { return Err(error("internal: no FROM level", None)) };
        let left_columns: Vec<(usize, usize)> = (before..middle)
            .flat_map(|s| (0..level.sources[s].columns.len()).map(move |c| (s, c)))
            .filter(|&(s, c)| !level.sources[s].columns[c].merged_away)
            .collect();
        let right_columns: Vec<(usize, usize)> = (middle..level.sources.len())
            .flat_map(|s| (0..level.sources[s].columns.len()).map(move |c| (s, c)))
            .filter(|&(s, c)| !level.sources[s].columns[c].merged_away)
            .collect();
        let wanted: Vec<Ident> = match names {
            Some(names) => names.to_vec(),
            None => left_columns
                .iter()
                .map(|&(s, c)| level.sources[s].columns[c].name.clone())
                .filter(|n| right_columns.iter().any(|&(s, c)| level.sources[s].columns[c].name.matches(n)))
                .collect(),
        };
        if wanted.is_empty() {
            return Ok("TRUE".into());
        }
        let mut conditions = Vec::new();
        for name in &wanted {
            let find = |columns: &[(usize, usize)], side: &str| -> Result<(usize, usize)> {
                let found: Vec<&(usize, usize)> = columns.iter().filter(|&&(s, c)| level.sources[s].columns[c].name.matches(name)).collect();
                match found.as_slice() {
                    [one] => Ok(**one),
                    [] => Err(error(format!("USING column {} is not a column of the {side} side of the join", name.value), Some(name))),
                    _ => Err(error(format!("USING column {} is ambiguous on the {side} side of the join", name.value), Some(name))),
                }
            };
            let (ls, lc) = find(&left_columns, "left")?;
            let (rs, rc) = find(&right_columns, "right")?;
            let (l_sql, r_sql) = (level.sources[ls].columns[lc].sql.clone(), level.sources[rs].columns[rc].sql.clone());
            conditions.push(format!("{l_sql} = {r_sql}"));
            // The merged column answers unqualified references: the left value, except that a
            // right or full outer join takes whichever side is there.
            let merged_sql = match kind {
                JoinKind::Inner | JoinKind::LeftOuter => l_sql.clone(),
                JoinKind::RightOuter => r_sql.clone(),
                JoinKind::FullOuter => format!("COALESCE({l_sql}, {r_sql})"),
            };
            level.sources[ls].columns[lc].sql = merged_sql;
            level.sources[rs].columns[rc].merged_away = true;
        }
        Ok(conditions.join(" AND "))
    }

    fn add_source(&mut self, source: Source) -> Result<()> {
        let Some(level) = self.levels.last_mut() else { return Err(error("internal: no FROM level", None)) };
        if let Some(alias) = &source.alias {
            if level.sources.iter().any(|s| s.alias.as_ref().is_some_and(|a| a.matches(alias))) {
                return Err(error(format!("the name {} is given to two tables of one FROM clause", alias.value), Some(alias)));
            }
        } else if level.sources.iter().any(|s| s.alias.is_none() && s.table == source.table && s.schema == source.schema) {
            return Err(error(
                format!("table {} appears twice in the FROM clause: give each an alias (FROM t AS a, t AS b)", source.display_name()),
                None,
            ));
        }
        level.sources.push(source);
        Ok(())
    }

    /// A table, view, CTE or upload by name.
    fn table_source(&mut self, name: &TableName, alias: Option<&Ident>) -> Result<(Source, String)> {
        let parts = &name.0;
        let Some(last) = parts.last() else { return Err(error("empty table name", None)) };
        // CTEs (innermost first) answer to unqualified names.
        if parts.len() == 1 {
            let cte = self
                .ctes
                .iter()
                .rev()
                .flat_map(|f| f.iter())
                .find(|c| c.name.matches(last))
                .map(|c| (c.name.clone(), c.sql_name.clone(), c.columns.clone()));
            if let Some((cte_name, cte_sql_name, cte_columns)) = cte {
                let cte = CteInfo { name: cte_name, sql_name: cte_sql_name, columns: cte_columns };
                let sql_alias = self.fresh_alias(&alias.unwrap_or(&cte.name).value);
                let columns = cte
                    .columns
                    .iter()
                    .map(|c| SourceColumn {
                        name: c.name.clone(),
                        sql: format!("{}.{}", sql::ident(&sql_alias), sql::ident(&c.name.value)),
                        meta: c.meta.clone(),
                        merged_away: false,
                    })
                    .collect();
                let source = Source {
                    alias: Some(alias.cloned().unwrap_or_else(|| cte.name.clone())),
                    schema: None,
                    table: None,
                    columns,
                };
                let from = format!("{} AS {}", sql::ident(&cte.sql_name), sql::ident(&sql_alias));
                return Ok((source, from));
            }
        }
        let (table, location) = self.find_table(parts)?;
        let sql_alias = self.fresh_alias(&alias.map(|a| a.value.clone()).unwrap_or_else(|| table.name.clone()));
        let columns = table
            .columns
            .iter()
            .map(|c| SourceColumn {
                name: Ident::new(c.name.clone()),
                sql: format!("{}.{}", sql::ident(&sql_alias), sql::ident(&c.name)),
                meta: ResultColumn::from_catalog(c.name.clone(), c),
                merged_away: false,
            })
            .collect();
        let source = Source {
            alias: alias.cloned(),
            schema: Some(table.schema.clone()),
            table: Some(table.name.clone()),
            columns,
        };
        Ok((source, format!("{location} AS {}", sql::ident(&sql_alias))))
    }

    /// Looks a table name up in the catalogue and the uploads. Returns the table's metadata
    /// and its SQL location.
    fn find_table(&self, parts: &[Ident]) -> Result<(&'a Table, String)> {
        let catalog: &'a Catalog = self.context.catalog;
        let uploads: &'a [UploadTable] = self.context.uploads;
        let located = |t: &'a Table| (t, format!("{}.{}", sql::ident(&t.schema), sql::ident(&t.name)));
        let (schema, table) = match parts {
            [table] => (None, table),
            [schema, table] => (Some(schema), table),
            [catalog_name, ..] => {
                return Err(error(
                    format!("catalog name {} is not supported: name tables as schema.table", catalog_name.value),
                    Some(catalog_name),
                ));
            }
            [] => return Err(error("empty table name", None)),
        };
        if let Some(schema) = schema {
            if scope::matches_name(schema, "tap_upload") {
                if let Some(upload) = uploads.iter().find(|u| scope::matches_name(table, &u.table.name)) {
                    return Ok((&upload.table, upload.sql_name.clone()));
                }
                let names: Vec<&str> = uploads.iter().map(|u| u.table.name.as_str()).collect();
                return Err(unknown("uploaded table", &format!("TAP_UPLOAD.{}", table.value), table, names));
            }
            let Some(s) = catalog.schemas().iter().find(|s| scope::matches_name(schema, &s.name)) else {
                let names: Vec<&str> = catalog.schemas().iter().map(|s| s.name.as_str()).collect();
                return Err(unknown("schema", &schema.value, schema, names));
            };
            return match s.tables.iter().find(|t| scope::matches_name(table, &t.name)) {
                Some(t) => Ok(located(t)),
                None => {
                    let names: Vec<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
                    Err(unknown("table", &format!("{}.{}", s.name, table.value), table, names))
                }
            };
        }
        let found: Vec<&Table> = catalog.tables().filter(|t| scope::matches_name(table, &t.name)).collect();
        match found.as_slice() {
            [one] => Ok(located(one)),
            [] => {
                let names: Vec<String> = catalog.tables().map(|t| t.qualified_name()).collect();
                let suggestion = scope::closest(&table.value, catalog.tables().map(|t| t.name.as_str()))
                    .and_then(|n| names.iter().find(|q| q.ends_with(&format!(".{n}"))).cloned());
                Err(error(
                    format!(
                        "there is no table {}{}",
                        table.value,
                        suggestion.map(|s| format!("; did you mean {s}?")).unwrap_or_else(|| format!("; the tables are {}", names.join(", ")))
                    ),
                    Some(table),
                ))
            }
            many => Err(error(
                format!(
                    "table name {} is ambiguous: write one of {}",
                    table.value,
                    many.iter().map(|t| t.qualified_name()).collect::<Vec<_>>().join(", ")
                ),
                Some(table),
            )),
        }
    }

    /// An SQL alias not used elsewhere in the statement, close to the name the user gave.
    fn fresh_alias(&mut self, wanted: &str) -> String {
        let base: String = wanted.chars().take(50).collect();
        let mut candidate = base.clone();
        let mut n = 2;
        while !self.aliases.insert(candidate.to_ascii_lowercase()) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        candidate
    }
}

fn unknown(what: &str, full: &str, at: &Ident, candidates: Vec<&str>) -> CompileError {
    let hint = match scope::closest(&at.value, candidates.iter().copied()) {
        Some(s) => format!("; did you mean {s}?"),
        None if candidates.is_empty() => String::new(),
        None => format!("; known: {}", candidates.join(", ")),
    };
    error(format!("there is no {what} {full}{hint}"), Some(at))
}

fn join_idents(parts: &[Ident]) -> String {
    parts.iter().map(|p| p.value.as_str()).collect::<Vec<_>>().join(".")
}

fn set_operator_name(op: SetOperator) -> &'static str {
    match op {
        SetOperator::Union => "UNION",
        SetOperator::Except => "EXCEPT",
        SetOperator::Intersect => "INTERSECT",
    }
}

/// The SQL of a sort direction. NULLs sort last either way: ADQL 2.1's ORDER BY grammar has no
/// NULLS FIRST / LAST and leaves their place open, as SQL-92 does, and PostgreSQL's default for DESC is
/// NULLS FIRST, which would put every spectrum without an anomaly score or a magnitude ahead of
/// the values a `TOP n ... ORDER BY anomaly_score DESC` asks for. Ascending needs nothing:
/// PostgreSQL sorts NULLs last there already.
fn direction(direction: Option<SortDirection>) -> &'static str {
    match direction {
        Some(SortDirection::Desc) => " DESC NULLS LAST",
        Some(SortDirection::Asc) => " ASC",
        None => "",
    }
}

/// A 1-based select-list position in ORDER BY / GROUP BY.
fn position(text: &str, count: usize) -> Result<usize> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 && n <= count => Ok(n),
        _ => Err(error(format!("position {text} is not a column of the select list (1 to {count})"), None)),
    }
}

/// The type both sides of a set operation can share.
fn unify(a: ValueType, b: ValueType) -> Option<ValueType> {
    if a == b {
        return Some(a);
    }
    if a == ValueType::Null {
        return Some(b);
    }
    if b == ValueType::Null {
        return Some(a);
    }
    if a.is_numeric() && b.is_numeric() {
        return Some(ValueType::numeric_union(a, b));
    }
    None
}

/// A value cast to the PostgreSQL type its column announces, so that what PostgreSQL sends
/// is what the VOTable FIELD says.
fn cast(sql: &str, value_type: ValueType) -> String {
    format!("CAST({sql} AS {})", value_type.sql_type())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile_on_small_stack(query: String) -> std::result::Result<CompiledQuery, String> {
        // A 2 MiB stack, like tokio's worker threads and the test harness default.
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tap");
                let catalog = Catalog::load_dir(&dir).map_err(|e| e.to_string())?;
                let functions = FunctionRegistry::standard();
                let context = Context { catalog: &catalog, uploads: &[], functions: &functions };
                compile(&query, Version::V2_1, &context, &Options::default()).map_err(|e| e.to_string())
            })
            .unwrap()
            .join()
            .map_err(|_| "the compiler thread panicked".to_string())?
    }

    /// The deepest trees the parser accepts compile without exhausting a small stack.
    #[test]
    fn maximum_depth_queries_compile_on_a_small_stack() {
        let sum = vec!["1"; 190].join(" + ");
        compile_on_small_stack(format!("SELECT {sum} FROM dfbs.plates")).unwrap();
        let nested = format!("SELECT {}1{} FROM dfbs.plates", "(".repeat(190), ")".repeat(190));
        compile_on_small_stack(nested).unwrap();
        let ors = vec!["magb < 1"; 190].join(" OR ");
        compile_on_small_stack(format!("SELECT specid FROM dfbs.spectra WHERE {ors}")).unwrap();
        let mut sub = "SELECT plateid FROM dfbs.plates".to_string();
        for _ in 0..45 {
            sub = format!("SELECT plateid FROM dfbs.plates WHERE plateid IN ({sub})");
        }
        compile_on_small_stack(sub).unwrap();
        let mut derived = "SELECT plateid FROM dfbs.plates".to_string();
        for i in 0..45 {
            derived = format!("SELECT plateid FROM ({derived}) AS t{i}");
        }
        compile_on_small_stack(derived).unwrap();
    }
}

#[cfg(test)]
mod metadata_tests {
    use super::*;

    /// A published column whose name is an ADQL reserved word must be declared delimited
    /// (and only such a column), so that TAP_SCHEMA tells clients to quote it.
    #[test]
    fn reserved_column_names_are_declared_delimited() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tap");
        let catalog = Catalog::load_dir(&dir).unwrap();
        for table in catalog.tables() {
            for column in &table.columns {
                let reserved = crate::adql::reserved::is_reserved(&column.name, Version::V2_1);
                assert_eq!(column.delimited, reserved, "{}.{}", table.qualified_name(), column.name);
            }
        }
    }
}
