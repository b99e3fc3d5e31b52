//! Hand-written recursive-descent parser for ADQL (Appendix A of ADQL 2.1;
//! ADQL 2.0 when [`Version::V2_0`] is asked for).
//!
//! Every parse function returns the node together with its tree depth;
//! trees deeper than [`MAX_DEPTH`] (and recursion deeper than that) are
//! rejected, so neither the parser nor recursive consumers of the tree
//! (printing, dropping, checking) can overflow the stack. Parsing is
//! linear in the number of tokens: the only look-ahead scans stop at the
//! first token that is not an opening parenthesis.

mod expr;
mod functions;

use super::Version;
use super::ast::*;
use super::error::{ParseError, suggest};
use super::lexer::{Token, TokenKind};
use super::reserved::is_reserved;

/// Maximum depth of the syntax tree (nested expressions, subqueries, joins
/// and set operations together), and of nested parentheses.
pub const MAX_DEPTH: usize = 200;

/// Queries whose parentheses nest deeper than this are parsed on a helper
/// thread with a large stack, so that the caller's stack (2 MiB on most
/// worker threads) never limits the accepted nesting, even in debug
/// builds where each nesting level can take tens of KiB of stack.
pub const INLINE_NESTING: usize = 12;

/// Stack size of the helper thread (enough for [`MAX_DEPTH`] levels).
const HELPER_STACK: usize = 64 << 20;

/// The deepest nesting of parentheses, rejecting more than [`MAX_DEPTH`]
/// levels before any recursion happens.
pub(crate) fn paren_depth(tokens: &[Token]) -> PResult<usize> {
    let (mut depth, mut max) = (0usize, 0usize);
    for t in tokens {
        match t.kind {
            TokenKind::LParen => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ParseError::new(
                        format!("parentheses are nested too deeply (more than {MAX_DEPTH} levels)"),
                        t.span,
                    ));
                }
                max = max.max(depth);
            }
            TokenKind::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(max)
}

/// Runs `f` on the current thread when the nesting is shallow, otherwise
/// on a helper thread with a large stack.
pub(crate) fn run_parser<T: Send + 'static>(
    tokens: Vec<Token>,
    version: Version,
    f: fn(&mut Parser) -> PResult<T>,
) -> PResult<T> {
    let depth = paren_depth(&tokens)?;
    if depth <= INLINE_NESTING {
        return f(&mut Parser::from_tokens(tokens, version));
    }
    let at = tokens.first().map(|t| t.span).unwrap_or_default();
    let handle = std::thread::Builder::new()
        .name("adql-parser".into())
        .stack_size(HELPER_STACK)
        .spawn(move || f(&mut Parser::from_tokens(tokens, version)));
    match handle {
        Ok(h) => h.join().unwrap_or_else(|_| {
            Err(ParseError::new(
                "internal error: the ADQL parser thread failed",
                at,
            ))
        }),
        Err(e) => Err(ParseError::new(
            format!("cannot start the ADQL parser thread for a deeply nested query: {e}"),
            at,
        )),
    }
}

pub(crate) type PResult<T> = Result<T, ParseError>;

/// Clause and operator keywords used for "did you mean" suggestions.
pub(crate) const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "ORDER",
    "HAVING",
    "BY",
    "JOIN",
    "ON",
    "USING",
    "AS",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "LIKE",
    "ILIKE",
    "IN",
    "IS",
    "NULL",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "OFFSET",
    "TOP",
    "DISTINCT",
    "ALL",
    "ASC",
    "DESC",
    "EXISTS",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "NATURAL",
    "WITH",
    "CAST",
    "COALESCE",
    "COUNT",
];

pub(crate) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    version: Version,
    /// Current recursion depth.
    nesting: usize,
}

impl Parser {
    pub(crate) fn from_tokens(tokens: Vec<Token>, version: Version) -> Self {
        Parser {
            tokens,
            pos: 0,
            version,
            nesting: 0,
        }
    }

    // ---------------------------------------------------------------
    // token helpers
    // ---------------------------------------------------------------

    fn peek_at(&self, k: usize) -> &Token {
        let i = (self.pos + k).min(self.tokens.len().saturating_sub(1));
        // `tokenize` always ends with Eof, so the list is never empty.
        &self.tokens[i]
    }

    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_kind(&self) -> &TokenKind {
        &self.peek().kind
    }

    /// Moves past the current token.
    fn skip(&mut self) {
        if self.pos < self.tokens.len().saturating_sub(1) {
            self.pos += 1;
        }
    }

    /// Moves past the current token and returns (a copy of) it.
    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len().saturating_sub(1) {
            self.pos += 1;
        }
        t
    }

    /// Whether the token `k` ahead is the keyword `kw` (case-insensitive).
    fn is_kw_at(&self, k: usize, kw: &str) -> bool {
        matches!(&self.peek_at(k).kind, TokenKind::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn is_kw(&self, kw: &str) -> bool {
        self.is_kw_at(0, kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.skip();
            true
        } else {
            false
        }
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.peek_kind() == kind {
            self.skip();
            true
        } else {
            false
        }
    }

    /// An error at the current token: "expected {what}, found {token}",
    /// with a keyword suggestion when the token looks like a misspelling.
    fn expected(&self, what: &str) -> ParseError {
        self.expected_with(what, &[])
    }

    fn expected_with(&self, what: &str, candidates: &[&str]) -> ParseError {
        let t = self.peek();
        let mut err = ParseError::new(
            format!("expected {what}, found {}", t.kind.describe()),
            t.span,
        );
        if let TokenKind::Word(w) = &t.kind {
            let sugg = if candidates.is_empty() {
                suggest(w, KEYWORDS)
            } else {
                suggest(w, candidates)
            };
            if let Some(s) = sugg {
                return err.with_hint(format!("did you mean {s}?"));
            }
        }
        if let Some(h) = self.misspelt_previous_word() {
            err = err.with_hint(h);
        }
        err
    }

    /// When the previous token is a plain word that looks like a misspelt
    /// clause keyword (and so was probably read as an alias), a hint
    /// saying so.
    fn misspelt_previous_word(&self) -> Option<String> {
        let prev = self.tokens.get(self.pos.checked_sub(1)?)?;
        let TokenKind::Word(w) = &prev.kind else {
            return None;
        };
        if is_reserved(w, self.version) {
            return None;
        }
        let s = suggest(w, KEYWORDS)?;
        Some(format!(
            "'{w}' at line {}, column {} was read as a name; did you mean {s}?",
            prev.span.line, prev.span.column
        ))
    }

    fn expect_kw(&mut self, kw: &str, context: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.expected_with(&format!("{kw} {context}"), &[kw]))
        }
    }

    fn expect(&mut self, kind: &TokenKind, context: &str) -> PResult<Token> {
        if self.peek_kind() == kind {
            Ok(self.advance())
        } else {
            Err(self.expected(&format!("'{}' {context}", kind.symbol())))
        }
    }

    /// Expects the `)` closing the `(` at `open`.
    fn expect_close(&mut self, open: &Token) -> PResult<()> {
        if self.eat(&TokenKind::RParen) {
            Ok(())
        } else {
            Err(self.expected(&format!(
                "')' to close the '(' at line {}, column {}",
                open.span.line, open.span.column
            )))
        }
    }

    /// Rejects a feature that is new in ADQL 2.1 when parsing ADQL 2.0.
    fn require_2_1(&self, feature: &str, at: &Token) -> PResult<()> {
        if self.version == Version::V2_0 {
            Err(ParseError::new(
                format!("{feature} is not part of ADQL 2.0 (it is new in ADQL 2.1)"),
                at.span,
            ))
        } else {
            Ok(())
        }
    }

    /// Enters one level of recursion.
    fn enter(&mut self) -> PResult<()> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(self.too_deep());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    fn too_deep(&self) -> ParseError {
        ParseError::new(
            format!(
                "the query is nested too deeply (more than {MAX_DEPTH} levels of expressions, subqueries, joins or set operations)"
            ),
            self.peek().span,
        )
    }

    /// Checks the depth of a node about to be built.
    fn check_depth(&self, depth: usize) -> PResult<usize> {
        if depth > MAX_DEPTH {
            Err(self.too_deep())
        } else {
            Ok(depth)
        }
    }

    // ---------------------------------------------------------------
    // identifiers and names
    // ---------------------------------------------------------------

    fn reserved_error(&self, t: &Token, word: &str, what: &str) -> ParseError {
        ParseError::new(
            format!("'{word}' is a reserved word and cannot be used as {what}"),
            t.span,
        )
        .with_hint(format!(
            "write \"{word}\" (in double quotes) to use it as an identifier"
        ))
    }

    /// `<identifier>`: a regular identifier that is not reserved, or a
    /// delimited identifier (§2.1.5, §2.1.6).
    fn parse_ident(&mut self, what: &str) -> PResult<Ident> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Word(w) => {
                if is_reserved(w, self.version) {
                    return Err(self.reserved_error(&t, w, what));
                }
                self.skip();
                Ok(Ident {
                    value: w.clone(),
                    delimited: false,
                    span: t.span,
                })
            }
            TokenKind::Delimited(w) => {
                self.skip();
                Ok(Ident {
                    value: w.clone(),
                    delimited: true,
                    span: t.span,
                })
            }
            _ => Err(self.expected(what)),
        }
    }

    /// Whether the current token can start an implicit alias (an identifier
    /// that is not a reserved word).
    fn at_implicit_alias(&self) -> bool {
        match self.peek_kind() {
            TokenKind::Word(w) => !is_reserved(w, self.version),
            TokenKind::Delimited(_) => true,
            _ => false,
        }
    }

    /// `[AS] alias` (`<as_clause>`, `<correlation_specification>`).
    fn parse_alias(&mut self, what: &str) -> PResult<Option<Ident>> {
        if self.eat_kw("AS") {
            return self.parse_ident(what).map(Some);
        }
        if self.version == Version::V2_0
            && self.is_kw("OFFSET")
            && matches!(self.peek_at(1).kind, TokenKind::Number(..))
        {
            let t = self.peek().clone();
            self.require_2_1("the OFFSET clause", &t)?;
        }
        if self.at_implicit_alias() {
            return self.parse_ident(what).map(Some);
        }
        Ok(None)
    }

    // ---------------------------------------------------------------
    // queries
    // ---------------------------------------------------------------

    /// The whole query text: `[WITH ...] select_expression` then end.
    pub(crate) fn parse_statement(&mut self) -> PResult<Query> {
        self.parse_statement_with_depth().map(|(q, _)| q)
    }

    /// A whole query and the depth of its tree (so that consumers can decide whether to
    /// walk it on a larger stack).
    pub(crate) fn parse_statement_with_depth(&mut self) -> PResult<(Query, usize)> {
        if matches!(self.peek_kind(), TokenKind::Eof) {
            return Err(self.expected("a query starting with SELECT"));
        }
        let (with, with_depth) = self.parse_with()?;
        let (mut q, depth) = self.parse_query_from(None)?;
        q.with = with;
        self.expect_end()?;
        Ok((q, depth.max(with_depth + 1)))
    }

    /// Reports what follows a complete query.
    fn expect_end(&mut self) -> PResult<()> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Eof => Ok(()),
            TokenKind::Semicolon => Err(ParseError::new("unexpected ';' after the query", t.span)
                .with_hint("ADQL queries are not terminated by ';'; remove it")),
            TokenKind::RParen => Err(ParseError::new(
                "unbalanced parentheses: ')' without a matching '('",
                t.span,
            )),
            TokenKind::Comma => Err(ParseError::new("unexpected ',' after the query", t.span)),
            TokenKind::Word(w) => {
                let up = w.to_ascii_uppercase();
                let clauses = [
                    "WHERE", "GROUP", "HAVING", "ORDER", "OFFSET", "FROM", "TOP", "SELECT",
                ];
                if clauses.contains(&up.as_str()) {
                    Err(ParseError::new(format!("unexpected {up} here"), t.span).with_hint(
                        "clauses must come in the order SELECT [TOP n] ... FROM ... WHERE ... GROUP BY ... HAVING ... ORDER BY ... OFFSET n",
                    ))
                } else if self.version == Version::V2_0
                    && (up == "UNION" || up == "EXCEPT" || up == "INTERSECT")
                {
                    Err(ParseError::new(
                        format!(
                            "{up} is not part of ADQL 2.0 (set operations are new in ADQL 2.1)"
                        ),
                        t.span,
                    ))
                } else {
                    Err(self.expected("end of query"))
                }
            }
            _ => Err(self.expected("end of query")),
        }
    }

    /// `WITH name AS (query), ...` (ADQL 2.1 §4.5), only at the top.
    fn parse_with(&mut self) -> PResult<(Vec<Cte>, usize)> {
        if !self.is_kw("WITH") {
            return Ok((Vec::new(), 0));
        }
        let mut depth = 0;
        let t = self.advance();
        self.require_2_1("WITH (common table expressions)", &t)?;
        let mut ctes = Vec::new();
        loop {
            let name = self.parse_ident("the name of a WITH query")?;
            if self.is_kw("AS") {
                self.skip();
            } else if matches!(self.peek_kind(), TokenKind::LParen) {
                return Err(self
                    .expected("AS after the WITH query name (column lists are not part of ADQL)"));
            } else {
                return Err(self.expected_with("AS after the WITH query name", &["AS"]));
            }
            let open = self.expect(&TokenKind::LParen, "to start the WITH query")?;
            self.enter()?;
            if self.is_kw("WITH") {
                let t = self.peek().clone();
                return Err(ParseError::new(
                    "WITH cannot be nested; declare all common table expressions at the start of the query",
                    t.span,
                ));
            }
            let (q, d) = self.parse_query_from(None)?;
            depth = depth.max(d);
            self.leave();
            self.expect_close(&open)?;
            ctes.push(Cte {
                name,
                query: Box::new(q),
            });
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok((ctes, depth))
    }

    /// `<select_expression>`: set expression, ORDER BY, OFFSET. `first` is an
    /// already parsed first operand (see [`Self::parse_paren_from_item`]).
    fn parse_query_from(&mut self, first: Option<(SetExpr, usize)>) -> PResult<(Query, usize)> {
        if first.is_none() && self.is_kw("WITH") {
            let t = self.peek().clone();
            return Err(ParseError::new(
                "WITH is only allowed at the start of the whole query, not in a subquery",
                t.span,
            ));
        }
        let (body, mut depth) = self.parse_set_expr(first)?;
        let mut order_by = Vec::new();
        if self.is_kw("ORDER") {
            self.skip();
            self.expect_kw("BY", "after ORDER")?;
            loop {
                let (item, d) = self.parse_order_item()?;
                depth = depth.max(d);
                order_by.push(item);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        let offset = if self.is_kw("OFFSET") {
            let t = self.advance();
            self.require_2_1("the OFFSET clause", &t)?;
            Some(self.parse_unsigned("OFFSET")?)
        } else {
            None
        };
        Ok((
            Query {
                with: Vec::new(),
                body,
                order_by,
                offset,
            },
            depth,
        ))
    }

    /// An `<unsigned_decimal>` after TOP or OFFSET.
    fn parse_unsigned(&mut self, after: &str) -> PResult<u64> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Number(text, NumberKind::Integer) => {
                self.skip();
                text.parse::<u64>().map_err(|_| {
                    ParseError::new(format!("the number after {after} is too large"), t.span)
                })
            }
            TokenKind::Minus => Err(ParseError::new(
                format!("{after} must be followed by an unsigned integer, found '-'"),
                t.span,
            )
            .with_hint("negative values are not allowed")),
            _ => Err(self.expected(&format!("an unsigned integer after {after}"))),
        }
    }

    fn parse_order_item(&mut self) -> PResult<(OrderByItem, usize)> {
        let start = self.peek().clone();
        let (expr, d) = self.parse_value("an ORDER BY term")?;
        if self.version == Version::V2_0
            && !matches!(
                expr,
                Expr::Column(_)
                    | Expr::Literal(Literal::Number {
                        kind: NumberKind::Integer,
                        ..
                    })
            )
        {
            return Err(ParseError::new(
                "ADQL 2.0 only allows column names and column positions in ORDER BY (expressions are new in ADQL 2.1)",
                start.span,
            ));
        }
        let direction = if self.eat_kw("ASC") {
            Some(SortDirection::Asc)
        } else if self.eat_kw("DESC") {
            Some(SortDirection::Desc)
        } else {
            None
        };
        Ok((OrderByItem { expr, direction }, d + 1))
    }

    /// `<query_set_expression>`: UNION/EXCEPT over INTERSECT terms.
    fn parse_set_expr(&mut self, first: Option<(SetExpr, usize)>) -> PResult<(SetExpr, usize)> {
        let (mut left, mut ld) = self.parse_set_term(first)?;
        loop {
            let op = if self.is_kw("UNION") {
                SetOperator::Union
            } else if self.is_kw("EXCEPT") {
                SetOperator::Except
            } else {
                break;
            };
            let t = self.advance();
            self.require_2_1("set operations (UNION, EXCEPT, INTERSECT)", &t)?;
            let all = self.eat_kw("ALL");
            let (right, rd) = self.parse_set_term(None)?;
            ld = self.check_depth(1 + ld.max(rd))?;
            left = SetExpr::SetOperation {
                op,
                all,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok((left, ld))
    }

    fn parse_set_term(&mut self, first: Option<(SetExpr, usize)>) -> PResult<(SetExpr, usize)> {
        let (mut left, mut ld) = match first {
            Some(f) => f,
            None => self.parse_set_primary()?,
        };
        while self.is_kw("INTERSECT") {
            let t = self.advance();
            self.require_2_1("set operations (UNION, EXCEPT, INTERSECT)", &t)?;
            let all = self.eat_kw("ALL");
            let (right, rd) = self.parse_set_primary()?;
            ld = self.check_depth(1 + ld.max(rd))?;
            left = SetExpr::SetOperation {
                op: SetOperator::Intersect,
                all,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok((left, ld))
    }

    /// `<query_set_primary>`: a SELECT or a parenthesised query.
    fn parse_set_primary(&mut self) -> PResult<(SetExpr, usize)> {
        if self.is_kw("SELECT") {
            let (s, d) = self.parse_select()?;
            return Ok((SetExpr::Select(Box::new(s)), d));
        }
        if matches!(self.peek_kind(), TokenKind::LParen) {
            let open = self.advance();
            self.enter()?;
            let (q, d) = self.parse_query_from(None)?;
            self.leave();
            self.expect_close(&open)?;
            let d = self.check_depth(d + 1)?;
            return Ok((Self::query_as_set_primary(q), d));
        }
        Err(self.expected_with("SELECT", &["SELECT"]))
    }

    /// A parenthesised query used as a set operand: parentheses without
    /// ORDER BY/OFFSET carry no meaning and are dropped.
    fn query_as_set_primary(q: Query) -> SetExpr {
        if q.order_by.is_empty() && q.offset.is_none() && q.with.is_empty() {
            q.body
        } else {
            SetExpr::Query(Box::new(q))
        }
    }

    /// `<select_query>` (§2.2).
    fn parse_select(&mut self) -> PResult<(Select, usize)> {
        self.expect_kw("SELECT", "")?;
        let quantifier = if self.eat_kw("DISTINCT") {
            Some(SetQuantifier::Distinct)
        } else if self.eat_kw("ALL") {
            Some(SetQuantifier::All)
        } else {
            None
        };
        let top = if self.eat_kw("TOP") {
            Some(self.parse_unsigned("TOP")?)
        } else {
            None
        };
        let mut depth = 1;
        let mut projection = Vec::new();
        if matches!(self.peek_kind(), TokenKind::Star) {
            self.skip();
            projection.push(SelectItem::Wildcard);
            if matches!(self.peek_kind(), TokenKind::Comma) {
                let t = self.peek().clone();
                return Err(ParseError::new(
                    "'*' cannot be combined with other select items",
                    t.span,
                )
                .with_hint("list the columns, or use table.* for each table"));
            }
        } else {
            loop {
                if self.is_kw("FROM") {
                    let t = self.peek().clone();
                    let msg = if projection.is_empty() {
                        "expected a select list (columns or *) before FROM"
                    } else {
                        "trailing ',' before FROM"
                    };
                    return Err(ParseError::new(msg, t.span));
                }
                let (item, d) = self.parse_select_item()?;
                depth = depth.max(d + 1);
                projection.push(item);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        if !self.is_kw("FROM") {
            let mut err = self.expected_with("FROM after the select list", &["FROM"]);
            if matches!(self.peek_kind(), TokenKind::Eof) {
                err = err.with_hint("every ADQL query needs a FROM clause");
            }
            return Err(err);
        }
        self.skip();
        let mut from = Vec::new();
        loop {
            if matches!(self.peek_kind(), TokenKind::Eof) || self.is_kw("WHERE") {
                return Err(self.expected("a table name after FROM"));
            }
            let (t, d) = self.parse_table_ref(None)?;
            depth = depth.max(d + 1);
            from.push(t);
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        let selection = if self.eat_kw("WHERE") {
            let (c, d) = self.parse_condition("WHERE")?;
            depth = depth.max(d + 1);
            Some(c)
        } else {
            None
        };
        let mut group_by = Vec::new();
        if self.is_kw("GROUP") {
            self.skip();
            self.expect_kw("BY", "after GROUP")?;
            loop {
                let start = self.peek().clone();
                let (e, d) = self.parse_value("a GROUP BY term")?;
                if self.version == Version::V2_0 && !matches!(e, Expr::Column(_)) {
                    return Err(ParseError::new(
                        "ADQL 2.0 only allows column references in GROUP BY (expressions are new in ADQL 2.1)",
                        start.span,
                    ));
                }
                depth = depth.max(d + 1);
                group_by.push(e);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        let having = if self.eat_kw("HAVING") {
            let (c, d) = self.parse_condition("HAVING")?;
            depth = depth.max(d + 1);
            Some(c)
        } else {
            None
        };
        let depth = self.check_depth(depth)?;
        Ok((
            Select {
                quantifier,
                top,
                projection,
                from,
                selection,
                group_by,
                having,
            },
            depth,
        ))
    }

    /// Whether the tokens ahead are `ident (. ident)* . *`.
    fn at_qualified_wildcard(&self) -> bool {
        let mut k = 0;
        loop {
            if !matches!(
                self.peek_at(k).kind,
                TokenKind::Word(_) | TokenKind::Delimited(_)
            ) {
                return false;
            }
            if !matches!(self.peek_at(k + 1).kind, TokenKind::Dot) {
                return false;
            }
            if matches!(self.peek_at(k + 2).kind, TokenKind::Star) {
                return true;
            }
            k += 2;
            if k > 8 {
                return false;
            }
        }
    }

    fn parse_select_item(&mut self) -> PResult<(SelectItem, usize)> {
        if self.at_qualified_wildcard() {
            let mut parts = vec![self.parse_ident("a table name")?];
            loop {
                self.expect(&TokenKind::Dot, "")?;
                if self.eat(&TokenKind::Star) {
                    break;
                }
                parts.push(self.parse_ident("a table name")?);
            }
            if parts.len() > 3 {
                let t = self.peek().clone();
                return Err(ParseError::new(
                    "a table name has at most three parts (catalog.schema.table)",
                    t.span,
                ));
            }
            return Ok((SelectItem::QualifiedWildcard(TableName(parts)), 1));
        }
        if matches!(self.peek_kind(), TokenKind::Star) {
            let t = self.peek().clone();
            return Err(
                ParseError::new("'*' cannot be combined with other select items", t.span)
                    .with_hint("list the columns, or use table.* for each table"),
            );
        }
        let (expr, d) = self.parse_value("a select item (a column or expression)")?;
        let alias = self.parse_alias("a column alias")?;
        Ok((SelectItem::Expr { expr, alias }, d))
    }

    // ---------------------------------------------------------------
    // FROM clause (§2.2, §2.2.2)
    // ---------------------------------------------------------------

    /// `<table_reference>` followed by any joins; `first` is an already
    /// parsed left operand.
    fn parse_table_ref(&mut self, first: Option<(TableRef, usize)>) -> PResult<(TableRef, usize)> {
        let (mut left, mut ld) = match first {
            Some(f) => f,
            None => self.parse_table_primary()?,
        };
        loop {
            let natural = self.eat_kw("NATURAL");
            let kind = if self.eat_kw("INNER") {
                Some(JoinKind::Inner)
            } else if self.eat_kw("LEFT") {
                self.eat_kw("OUTER");
                Some(JoinKind::LeftOuter)
            } else if self.eat_kw("RIGHT") {
                self.eat_kw("OUTER");
                Some(JoinKind::RightOuter)
            } else if self.eat_kw("FULL") {
                self.eat_kw("OUTER");
                Some(JoinKind::FullOuter)
            } else {
                None
            };
            if self.is_kw("CROSS") {
                let t = self.peek().clone();
                return Err(ParseError::new("CROSS JOIN is not part of ADQL", t.span)
                    .with_hint("list the tables separated by commas: FROM a, b"));
            }
            if !self.is_kw("JOIN") {
                if natural || kind.is_some() {
                    return Err(self.expected_with("JOIN", &["JOIN"]));
                }
                break;
            }
            self.skip();
            let kind = kind.unwrap_or(JoinKind::Inner);
            let (right, rd) = self.parse_table_primary()?;
            let mut depth = 1 + ld.max(rd);
            let constraint = if natural {
                if self.is_kw("ON") || self.is_kw("USING") {
                    let t = self.peek().clone();
                    return Err(ParseError::new(
                        "a NATURAL join cannot have an ON or USING clause",
                        t.span,
                    ));
                }
                JoinConstraint::Natural
            } else if self.eat_kw("ON") {
                let (c, d) = self.parse_condition("ON")?;
                depth = depth.max(d + 1);
                JoinConstraint::On(c)
            } else if self.eat_kw("USING") {
                let open = self.expect(&TokenKind::LParen, "after USING")?;
                let mut cols = Vec::new();
                loop {
                    cols.push(self.parse_ident("a column name in USING")?);
                    if !self.eat(&TokenKind::Comma) {
                        break;
                    }
                }
                self.expect_close(&open)?;
                JoinConstraint::Using(cols)
            } else {
                return Err(self
                    .expected_with("ON or USING after the joined table", &["ON", "USING"])
                    .with_hint(
                        "a JOIN needs a join condition, e.g. ON a.id = b.id, or use NATURAL JOIN",
                    ));
            };
            ld = self.check_depth(depth)?;
            left = TableRef::Join(Box::new(Join {
                left,
                right,
                kind,
                constraint,
            }));
        }
        Ok((left, ld))
    }

    /// A table name with optional alias, a derived table, or a
    /// parenthesised joined table.
    fn parse_table_primary(&mut self) -> PResult<(TableRef, usize)> {
        if matches!(self.peek_kind(), TokenKind::LParen) {
            return match self.parse_paren_from_item()? {
                ParenItem::Query(q, d) => self.finish_derived(q, d),
                ParenItem::Table(t, d) => Ok((t, d)),
            };
        }
        let t = self.peek().clone();
        if let TokenKind::Word(w) = &t.kind
            && is_reserved(w, self.version)
        {
            let mut err = self.reserved_error(&t, w, "a table name");
            if let Some(s) = suggest(w, KEYWORDS) {
                err = err.with_hint(format!("did you mean {s}?"));
            }
            return Err(err);
        }
        let mut parts = vec![self.parse_ident("a table name")?];
        while matches!(self.peek_kind(), TokenKind::Dot) {
            self.skip();
            parts.push(self.parse_ident("a table name")?);
        }
        if parts.len() > 3 {
            return Err(ParseError::new(
                "a table name has at most three parts (catalog.schema.table)",
                t.span,
            ));
        }
        let alias = self.parse_alias("a table alias")?;
        Ok((
            TableRef::Table {
                name: TableName(parts),
                alias,
            },
            1,
        ))
    }

    /// The mandatory correlation name of a derived table.
    fn finish_derived(&mut self, q: Query, d: usize) -> PResult<(TableRef, usize)> {
        match self.parse_alias("the alias of a subquery")? {
            Some(alias) => Ok((
                TableRef::Derived {
                    subquery: Box::new(q),
                    alias,
                },
                self.check_depth(d + 1)?,
            )),
            None => Err(self
                .expected("an alias after the subquery in FROM")
                .with_hint("a subquery in FROM needs a name, e.g. (SELECT ...) AS sub")),
        }
    }

    /// Parses `( ... )` in FROM, which may hold a query (for a derived
    /// table) or a joined table. Deterministic and linear: the first token
    /// after the parenthesis decides, nested parentheses recurse.
    fn parse_paren_from_item(&mut self) -> PResult<ParenItem> {
        let open = self.advance();
        self.enter()?;
        let item = if self.is_kw("SELECT") {
            let (q, d) = self.parse_query_from(None)?;
            ParenItem::Query(q, d)
        } else if self.is_kw("WITH") {
            let t = self.peek().clone();
            return Err(ParseError::new(
                "WITH is only allowed at the start of the whole query, not in a subquery",
                t.span,
            ));
        } else if matches!(self.peek_kind(), TokenKind::LParen) {
            match self.parse_paren_from_item()? {
                ParenItem::Query(q, d) => {
                    if matches!(self.peek_kind(), TokenKind::RParen) {
                        ParenItem::Query(q, d)
                    } else if ["UNION", "EXCEPT", "INTERSECT", "ORDER", "OFFSET"]
                        .iter()
                        .any(|k| self.is_kw(k))
                    {
                        let first = (Self::query_as_set_primary(q), d);
                        let (q, d) = self.parse_query_from(Some(first))?;
                        ParenItem::Query(q, d)
                    } else {
                        let derived = self.finish_derived(q, d)?;
                        let (t, d) = self.parse_table_ref(Some(derived))?;
                        ParenItem::Table(t, d)
                    }
                }
                ParenItem::Table(t, d) => {
                    let (t, d) = self.parse_table_ref(Some((t, d)))?;
                    ParenItem::Table(t, d)
                }
            }
        } else {
            let (t, d) = self.parse_table_ref(None)?;
            ParenItem::Table(t, d)
        };
        self.leave();
        self.expect_close(&open)?;
        Ok(item)
    }

    /// `( query )` after IN or EXISTS (`<table_subquery>`).
    fn parse_table_subquery(&mut self, after: &str) -> PResult<(Query, usize)> {
        let open = self.expect(&TokenKind::LParen, &format!("after {after}"))?;
        self.enter()?;
        let (q, d) = self.parse_query_from(None)?;
        self.leave();
        self.expect_close(&open)?;
        Ok((q, self.check_depth(d + 1)?))
    }

    /// Whether `(` at the current token opens a subquery: skips opening
    /// parentheses and looks for SELECT or WITH.
    fn at_subquery(&self) -> bool {
        let mut k = 0;
        while matches!(self.peek_at(k).kind, TokenKind::LParen) {
            k += 1;
            if self.pos + k >= self.tokens.len() {
                return false;
            }
        }
        k > 0 && (self.is_kw_at(k, "SELECT") || self.is_kw_at(k, "WITH"))
    }
}

enum ParenItem {
    Query(Query, usize),
    Table(TableRef, usize),
}

impl Parser {
    /// A lone expression or condition followed by the end of the text.
    pub(crate) fn parse_standalone_expression(&mut self) -> PResult<Expr> {
        let (e, _) = self.parse_or()?;
        if !matches!(self.peek_kind(), TokenKind::Eof) {
            return Err(self.expected("end of expression"));
        }
        Ok(e)
    }
}
