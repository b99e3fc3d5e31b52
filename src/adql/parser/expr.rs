//! Search conditions and value expressions (ADQL 2.1 §2.2.3, Appendix A:
//! `<search_condition>`, `<predicate>`, `<numeric_value_expression>`,
//! `<character_value_expression>`, `<bitwise_expression>`).
//!
//! Operator precedence, loosest first: OR, AND, NOT, predicates
//! (comparison, BETWEEN, IN, LIKE, IS NULL), `||`, `|`, `^`, `&`, `+ -`,
//! `* /`, unary `- + ~`.

use super::super::ast::*;
use super::super::error::ParseError;
use super::super::lexer::{Token, TokenKind};
use super::super::reserved::is_reserved;
use super::super::Version;
use super::{PResult, Parser};

/// Binary operator levels, loosest first.
const LEVELS: &[&[(TokenKind, BinaryOp)]] = &[
    &[(TokenKind::Concat, BinaryOp::Concat)],
    &[(TokenKind::Pipe, BinaryOp::BitOr)],
    &[(TokenKind::Caret, BinaryOp::BitXor)],
    &[(TokenKind::Amp, BinaryOp::BitAnd)],
    &[(TokenKind::Plus, BinaryOp::Add), (TokenKind::Minus, BinaryOp::Sub)],
    &[(TokenKind::Star, BinaryOp::Mul), (TokenKind::Slash, BinaryOp::Div)],
];

fn describe_condition(e: &Expr) -> &'static str {
    match e {
        Expr::Comparison { .. } => "a comparison",
        Expr::Between { .. } => "a BETWEEN predicate",
        Expr::InList { .. } | Expr::InSubquery { .. } => "an IN predicate",
        Expr::Like { .. } => "a LIKE predicate",
        Expr::IsNull { .. } => "an IS NULL predicate",
        Expr::Exists(_) => "an EXISTS predicate",
        Expr::And(..) | Expr::Or(..) | Expr::Not(_) => "a logical condition",
        _ => "a value",
    }
}

impl Parser {
    /// A `<search_condition>` where one is required (after `clause`).
    pub(super) fn parse_condition(&mut self, clause: &str) -> PResult<(Expr, usize)> {
        let start = self.peek().clone();
        if matches!(start.kind, TokenKind::Eof) {
            return Err(self.expected(&format!("a condition after {clause}")));
        }
        let (e, d) = self.parse_or()?;
        self.require_condition(&e, &start, clause)?;
        Ok((e, d))
    }

    fn require_condition(&self, e: &Expr, start: &Token, context: &str) -> PResult<()> {
        if e.is_condition() {
            return Ok(());
        }
        let mut err = ParseError::new(
            format!("{context} needs a condition (such as a comparison), but this is a value"),
            start.span,
        );
        err = match e {
            Expr::Geometry(g) if matches!(**g, GeometryFunction::Contains(..) | GeometryFunction::Intersects(..)) => {
                err.with_hint("CONTAINS and INTERSECTS return 0 or 1; compare the result, e.g. 1 = CONTAINS(...)")
            }
            Expr::Function(_) => err.with_hint("functions return values; compare the result, e.g. 1 = f(...)"),
            _ => err.with_hint("ADQL has no boolean columns or literals in conditions; compare the value, e.g. x = 1"),
        };
        Err(err)
    }

    fn require_value(&self, e: &Expr, start: &Token, context: &str) -> PResult<()> {
        if e.is_condition() {
            return Err(ParseError::new(
                format!("{} cannot be used as a value ({context})", describe_condition(e)),
                start.span,
            ));
        }
        Ok(())
    }

    /// A `<value_expression>` where one is required.
    pub(super) fn parse_value(&mut self, what: &str) -> PResult<(Expr, usize)> {
        let start = self.peek().clone();
        let (e, d) = self.parse_binary(0, what)?;
        self.require_value(&e, &start, what)?;
        Ok((e, d))
    }

    pub(super) fn parse_or(&mut self) -> PResult<(Expr, usize)> {
        let start = self.peek().clone();
        let (mut left, mut ld) = self.parse_and()?;
        while self.is_kw("OR") {
            self.require_condition(&left, &start, "the left side of OR")?;
            self.advance();
            let rstart = self.peek().clone();
            let (right, rd) = self.parse_and()?;
            self.require_condition(&right, &rstart, "the right side of OR")?;
            ld = self.check_depth(1 + ld.max(rd))?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok((left, ld))
    }

    fn parse_and(&mut self) -> PResult<(Expr, usize)> {
        let start = self.peek().clone();
        let (mut left, mut ld) = self.parse_not()?;
        while self.is_kw("AND") {
            self.require_condition(&left, &start, "the left side of AND")?;
            self.advance();
            let rstart = self.peek().clone();
            let (right, rd) = self.parse_not()?;
            self.require_condition(&right, &rstart, "the right side of AND")?;
            ld = self.check_depth(1 + ld.max(rd))?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok((left, ld))
    }

    /// `<boolean_factor> ::= [NOT] <boolean_primary>` (a single NOT).
    fn parse_not(&mut self) -> PResult<(Expr, usize)> {
        if !self.is_kw("NOT") {
            return self.parse_predicate();
        }
        self.advance();
        let start = self.peek().clone();
        if self.is_kw("NOT") {
            return Err(ParseError::new("NOT cannot directly follow NOT", start.span)
                .with_hint("use parentheses: NOT (NOT ...)"));
        }
        let (e, d) = self.parse_predicate()?;
        self.require_condition(&e, &start, "NOT")?;
        let d = self.check_depth(d + 1)?;
        Ok((Expr::Not(Box::new(e)), d))
    }

    /// `<predicate>`, or a value / parenthesised condition when no
    /// predicate operator follows.
    fn parse_predicate(&mut self) -> PResult<(Expr, usize)> {
        if self.is_kw("EXISTS") {
            self.advance();
            let (q, d) = self.parse_table_subquery("EXISTS")?;
            return Ok((Expr::Exists(Box::new(q)), d));
        }
        let start = self.peek().clone();
        let (left, ld) = self.parse_binary(0, "an expression")?;
        let op = match self.peek_kind() {
            TokenKind::Eq => Some(CompareOp::Eq),
            TokenKind::NotEq => Some(CompareOp::NotEq),
            TokenKind::Lt => Some(CompareOp::Lt),
            TokenKind::Gt => Some(CompareOp::Gt),
            TokenKind::LtEq => Some(CompareOp::LtEq),
            TokenKind::GtEq => Some(CompareOp::GtEq),
            _ => None,
        };
        if let Some(op) = op {
            self.require_value(&left, &start, "the left side of a comparison")?;
            let optok = self.advance();
            if self.at_subquery() {
                let t = self.peek().clone();
                return Err(ParseError::new("scalar subqueries are not part of ADQL", t.span)
                    .with_hint("subqueries are allowed in FROM, after IN and after EXISTS"));
            }
            if matches!(self.peek_kind(), TokenKind::Eq | TokenKind::Lt | TokenKind::Gt) {
                let t = self.peek().clone();
                return Err(ParseError::new(
                    format!("unexpected '{}' after '{}'", t.kind.symbol(), optok.kind.symbol()),
                    t.span,
                )
                .with_hint("comparison operators are =, <>, !=, <, >, <=, >="));
            }
            let rstart = self.peek().clone();
            let (right, rd) = self.parse_binary(0, "a value after the comparison operator")?;
            self.require_value(&right, &rstart, "the right side of a comparison")?;
            let d = self.check_depth(1 + ld.max(rd))?;
            return Ok((Expr::Comparison { op, left: Box::new(left), right: Box::new(right) }, d));
        }
        let negated = if self.is_kw("NOT") {
            if ["BETWEEN", "IN", "LIKE", "ILIKE"].iter().any(|k| self.is_kw_at(1, k)) {
                self.advance();
                true
            } else {
                let t = self.peek().clone();
                return Err(ParseError::new("NOT must be followed by BETWEEN, IN, LIKE or ILIKE here", t.span)
                    .with_hint("to negate a condition write NOT before it, e.g. NOT a = 1"));
            }
        } else {
            false
        };
        let ctx = if self.is_kw("BETWEEN") {
            "BETWEEN"
        } else if self.is_kw("IN") {
            "IN"
        } else if self.is_kw("LIKE") {
            "LIKE"
        } else if self.is_kw("ILIKE") {
            "ILIKE"
        } else if self.is_kw("IS") {
            "IS"
        } else {
            return Ok((left, ld));
        };
        self.require_value(&left, &start, &format!("the left side of {ctx}"))?;
        let kwtok = self.advance();
        let left = Box::new(left);
        match ctx {
            "BETWEEN" => {
                let (low, d1) = self.parse_value("the lower bound of BETWEEN")?;
                self.expect_kw("AND", "between the bounds of BETWEEN")?;
                let (high, d2) = self.parse_value("the upper bound of BETWEEN")?;
                let d = self.check_depth(1 + ld.max(d1).max(d2))?;
                Ok((Expr::Between { expr: left, negated, low: Box::new(low), high: Box::new(high) }, d))
            }
            "IN" => {
                if !matches!(self.peek_kind(), TokenKind::LParen) {
                    return Err(self.expected("'(' after IN"));
                }
                if self.at_subquery() {
                    let (q, qd) = self.parse_table_subquery("IN")?;
                    let d = self.check_depth(1 + ld.max(qd))?;
                    return Ok((Expr::InSubquery { expr: left, negated, subquery: Box::new(q) }, d));
                }
                let open = self.advance();
                self.enter()?;
                let mut list = Vec::new();
                let mut d = ld;
                loop {
                    if matches!(self.peek_kind(), TokenKind::RParen) {
                        return Err(self.expected("a value in the IN list"));
                    }
                    let (v, vd) = self.parse_value("an IN list value")?;
                    d = d.max(vd);
                    list.push(v);
                    if !self.eat(&TokenKind::Comma) {
                        break;
                    }
                }
                self.leave();
                self.expect_close(&open)?;
                let d = self.check_depth(d + 1)?;
                Ok((Expr::InList { expr: left, negated, list }, d))
            }
            "LIKE" | "ILIKE" => {
                let ci = ctx == "ILIKE";
                if ci {
                    self.require_2_1("ILIKE", &kwtok)?;
                }
                let (pattern, pd) = self.parse_value(&format!("the pattern after {ctx}"))?;
                if self.is_kw("ESCAPE") {
                    let t = self.peek().clone();
                    return Err(ParseError::new("LIKE ... ESCAPE is not part of ADQL", t.span));
                }
                let d = self.check_depth(1 + ld.max(pd))?;
                Ok((Expr::Like { expr: left, negated, case_insensitive: ci, pattern: Box::new(pattern) }, d))
            }
            _ => {
                // IS [NOT] NULL: `<null_predicate> ::= <column_reference> IS [NOT] NULL`
                let negated = self.eat_kw("NOT");
                if !self.eat_kw("NULL") {
                    return Err(self.expected_with(if negated { "NULL after IS NOT" } else { "NULL or NOT NULL after IS" }, &["NULL"]));
                }
                if !matches!(*left, Expr::Column(_)) {
                    return Err(ParseError::new("IS NULL can only be applied to a column reference in ADQL", start.span)
                        .with_hint("the grammar is <column_reference> IS [NOT] NULL"));
                }
                Ok((Expr::IsNull { expr: left, negated }, self.check_depth(ld + 1)?))
            }
        }
    }

    /// Binary operators from `LEVELS[level]` down, left-associative.
    fn parse_binary(&mut self, level: usize, what: &str) -> PResult<(Expr, usize)> {
        let Some(ops) = LEVELS.get(level) else {
            return self.parse_unary(what);
        };
        let start = self.peek().clone();
        let (mut left, mut ld) = self.parse_binary(level + 1, what)?;
        loop {
            let Some(op) = ops.iter().find(|(k, _)| k == self.peek_kind()).map(|(_, op)| *op) else {
                break;
            };
            let optok = self.advance();
            if matches!(op, BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor) {
                self.require_2_1("bitwise operators (&, |, ^, ~)", &optok)?;
            }
            let sym = optok.kind.symbol();
            self.require_value(&left, &start, &format!("the left operand of '{sym}'"))?;
            let rstart = self.peek().clone();
            if matches!(rstart.kind, TokenKind::Eof) {
                return Err(self.expected(&format!("a value after '{sym}'")));
            }
            let (right, rd) = self.parse_binary(level + 1, what)?;
            self.require_value(&right, &rstart, &format!("the right operand of '{sym}'"))?;
            ld = self.check_depth(1 + ld.max(rd))?;
            left = Expr::Binary { op, left: Box::new(left), right: Box::new(right) };
        }
        Ok((left, ld))
    }

    /// `<factor> ::= [<sign>] <numeric_primary>` (one sign only), and `~`.
    fn parse_unary(&mut self, what: &str) -> PResult<(Expr, usize)> {
        let op = match self.peek_kind() {
            TokenKind::Minus => UnaryOp::Minus,
            TokenKind::Plus => UnaryOp::Plus,
            TokenKind::Tilde => UnaryOp::BitNot,
            _ => return self.parse_primary(what),
        };
        let optok = self.advance();
        if op == UnaryOp::BitNot {
            self.require_2_1("bitwise operators (&, |, ^, ~)", &optok)?;
        }
        if matches!(self.peek_kind(), TokenKind::Minus | TokenKind::Plus | TokenKind::Tilde) {
            let t = self.peek().clone();
            return Err(ParseError::new("two signs in a row", t.span)
                .with_hint("use parentheses, e.g. -(-x)"));
        }
        let start = self.peek().clone();
        let (e, d) = self.parse_primary(what)?;
        self.require_value(&e, &start, "the operand of a sign")?;
        let d = self.check_depth(d + 1)?;
        Ok((Expr::Unary { op, expr: Box::new(e) }, d))
    }

    /// `<value_expression_primary>` and function calls.
    fn parse_primary(&mut self, what: &str) -> PResult<(Expr, usize)> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Number(text, kind) => {
                if *kind == NumberKind::Hex {
                    self.require_2_1("hexadecimal literals", &t)?;
                }
                self.advance();
                Ok((Expr::Literal(Literal::Number { text: text.clone(), kind: *kind }), 1))
            }
            TokenKind::String(s) => {
                self.advance();
                Ok((Expr::Literal(Literal::String(s.clone())), 1))
            }
            TokenKind::LParen => {
                if self.at_subquery() {
                    return Err(ParseError::new("scalar subqueries are not part of ADQL", t.span)
                        .with_hint("subqueries are allowed in FROM, after IN and after EXISTS"));
                }
                let open = self.advance();
                self.enter()?;
                if matches!(self.peek_kind(), TokenKind::RParen) {
                    return Err(self.expected("an expression inside the parentheses"));
                }
                let (e, d) = self.parse_or()?;
                self.leave();
                self.expect_close(&open)?;
                Ok((e, d))
            }
            TokenKind::Delimited(_) => {
                if matches!(self.peek_at(1).kind, TokenKind::LParen) {
                    return Err(ParseError::new("a function name cannot be a delimited (quoted) identifier", t.span));
                }
                self.parse_column_ref()
            }
            TokenKind::Word(w) => {
                let up = w.to_ascii_uppercase();
                if matches!(self.peek_at(1).kind, TokenKind::LParen) {
                    return self.parse_function_call(&t, w, &up);
                }
                match up.as_str() {
                    "NULL" => {
                        if self.version == Version::V2_0 {
                            return Err(ParseError::new(
                                "NULL is only allowed in IS [NOT] NULL in ADQL 2.0 (NULL as a value is new in ADQL 2.1)",
                                t.span,
                            ));
                        }
                        self.advance();
                        Ok((Expr::Literal(Literal::Null), 1))
                    }
                    "TRUE" | "FALSE" => Err(ParseError::new(format!("{up} is a reserved word; ADQL has no boolean literals"), t.span)
                        .with_hint("compare with 1 or 0 instead")),
                    "CASE" => Err(ParseError::new("CASE expressions are not part of ADQL", t.span)
                        .with_hint("COALESCE is available in ADQL 2.1")),
                    "SELECT" => Err(ParseError::new("a subquery must be enclosed in parentheses", t.span)),
                    _ => {
                        if is_reserved(w, self.version) {
                            let mut err = if super::super::ast::Function::standard(w).is_some()
                                || super::super::ast::GEOMETRY_FUNCTIONS.contains(&up.as_str())
                                || super::super::ast::AggregateFunction::from_name(w).is_some()
                            {
                                ParseError::new(format!("'{w}' is a reserved word (an ADQL function name) and cannot be used as a column name"), t.span)
                                    .with_hint(format!("write \"{w}\" (in double quotes) to use it as a column name, or call it as {up}(...)"))
                            } else {
                                ParseError::new(format!("expected {what}, found the reserved word '{w}'"), t.span)
                                    .with_hint(format!("write \"{w}\" (in double quotes) to use it as an identifier"))
                            };
                            if let Some(s) = super::super::error::suggest(w, super::KEYWORDS) {
                                if !s.eq_ignore_ascii_case(w) {
                                    err = err.with_hint(format!("did you mean {s}?"));
                                }
                            }
                            return Err(err);
                        }
                        self.parse_column_ref()
                    }
                }
            }
            TokenKind::Star => Err(ParseError::new(format!("expected {what}, found '*'"), t.span)
                .with_hint("'*' is only allowed as the whole select list or in COUNT(*)")),
            TokenKind::RParen => Err(ParseError::new(format!("expected {what}, found ')'"), t.span)),
            _ => Err(self.expected(what)),
        }
    }

    /// `<column_reference>`: up to four dotted parts.
    fn parse_column_ref(&mut self) -> PResult<(Expr, usize)> {
        let start = self.peek().clone();
        let mut parts = vec![self.parse_ident("a column name")?];
        while matches!(self.peek_kind(), TokenKind::Dot) {
            self.advance();
            if matches!(self.peek_kind(), TokenKind::Star) {
                let t = self.peek().clone();
                return Err(ParseError::new("'table.*' is only allowed as an item of the select list", t.span));
            }
            parts.push(self.parse_ident("a column name")?);
        }
        if parts.len() > 4 {
            return Err(ParseError::new(
                "a column reference has at most four parts (catalog.schema.table.column)",
                start.span,
            ));
        }
        let column = parts.pop().ok_or_else(|| self.expected("a column name"))?;
        Ok((Expr::Column(ColumnRef { qualifier: parts, column }), 1))
    }
}
