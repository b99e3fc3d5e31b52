//! Search conditions and value expressions (ADQL 2.1 §2.2.3, Appendix A:
//! `<search_condition>`, `<predicate>`, `<numeric_value_expression>`,
//! `<character_value_expression>`, `<bitwise_expression>`).
//!
//! Operator precedence, loosest first: OR, AND, NOT, predicates
//! (comparison, BETWEEN, IN, LIKE, IS NULL), `||`, `|`, `^`, `&`, `+ -`,
//! `* /`, unary `- + ~`.
//!
//! The functions on the recursion path (`parse_or` … `parse_primary`) keep
//! their stack frames small: error reporting and rarely used branches live
//! in separate functions, so deeply parenthesised input stays within a
//! small thread stack even in debug builds.

use super::super::Version;
use super::super::ast::*;
use super::super::error::{ParseError, suggest};
use super::super::lexer::{Span, TokenKind};
use super::super::reserved::is_reserved;
use super::{KEYWORDS, PResult, Parser};

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

/// The binary operator of a token, with its binding strength.
fn binary_op(kind: &TokenKind) -> Option<(BinaryOp, u8)> {
    let op = match kind {
        TokenKind::Concat => BinaryOp::Concat,
        TokenKind::Pipe => BinaryOp::BitOr,
        TokenKind::Caret => BinaryOp::BitXor,
        TokenKind::Amp => BinaryOp::BitAnd,
        TokenKind::Plus => BinaryOp::Add,
        TokenKind::Minus => BinaryOp::Sub,
        TokenKind::Star => BinaryOp::Mul,
        TokenKind::Slash => BinaryOp::Div,
        _ => return None,
    };
    Some((op, op.precedence()))
}

fn after_operator(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "a value after '+'",
        BinaryOp::Sub => "a value after '-'",
        BinaryOp::Mul => "a value after '*'",
        BinaryOp::Div => "a value after '/'",
        BinaryOp::Concat => "a value after '||'",
        BinaryOp::BitAnd => "a value after '&'",
        BinaryOp::BitOr => "a value after '|'",
        BinaryOp::BitXor => "a value after '^'",
    }
}

fn compare_op(kind: &TokenKind) -> Option<CompareOp> {
    Some(match kind {
        TokenKind::Eq => CompareOp::Eq,
        TokenKind::NotEq => CompareOp::NotEq,
        TokenKind::Lt => CompareOp::Lt,
        TokenKind::Gt => CompareOp::Gt,
        TokenKind::LtEq => CompareOp::LtEq,
        TokenKind::GtEq => CompareOp::GtEq,
        _ => return None,
    })
}

impl Parser {
    /// A `<search_condition>` where one is required (after `clause`).
    pub(super) fn parse_condition(&mut self, clause: &str) -> PResult<(Expr, usize)> {
        let start = self.peek().span;
        if matches!(self.peek_kind(), TokenKind::Eof) {
            return Err(self.expected(&format!("a condition after {clause}")));
        }
        let (e, d) = self.parse_or()?;
        self.require_condition(&e, start, clause)?;
        Ok((e, d))
    }

    fn require_condition(&self, e: &Expr, start: Span, context: &str) -> PResult<()> {
        if e.is_condition() {
            Ok(())
        } else {
            Err(self.not_a_condition(e, start, context))
        }
    }

    #[cold]
    #[inline(never)]
    fn not_a_condition(&self, e: &Expr, start: Span, context: &str) -> ParseError {
        let err = ParseError::new(
            format!("{context} needs a condition (such as a comparison), but this is a value"),
            start,
        );
        if let TokenKind::Word(w) = self.peek_kind()
            && let Some(s) = suggest(w, KEYWORDS)
        {
            return err.with_hint(format!("did you mean {s} (found '{w}')?"));
        }
        match e {
            Expr::Geometry(g) if matches!(**g, GeometryFunction::Contains(..) | GeometryFunction::Intersects(..)) => {
                err.with_hint("CONTAINS and INTERSECTS return 0 or 1; compare the result, e.g. 1 = CONTAINS(...)")
            }
            Expr::Function(_) => err.with_hint("functions return values; compare the result, e.g. 1 = f(...)"),
            _ => err.with_hint("ADQL has no boolean columns or literals in conditions; compare the value, e.g. x = 1"),
        }
    }

    fn require_value(&self, e: &Expr, start: Span, context: &str) -> PResult<()> {
        if e.is_condition() {
            Err(Self::not_a_value(e, start, context))
        } else {
            Ok(())
        }
    }

    #[cold]
    #[inline(never)]
    fn not_a_value(e: &Expr, start: Span, context: &str) -> ParseError {
        ParseError::new(
            format!(
                "{} cannot be used as a value ({context})",
                describe_condition(e)
            ),
            start,
        )
    }

    /// A `<value_expression>` where one is required.
    pub(super) fn parse_value(&mut self, what: &str) -> PResult<(Expr, usize)> {
        let start = self.peek().span;
        let (e, d) = self.parse_binary(0, what)?;
        self.require_value(&e, start, what)?;
        Ok((e, d))
    }

    pub(super) fn parse_or(&mut self) -> PResult<(Expr, usize)> {
        let start = self.peek().span;
        let (mut left, mut ld) = self.parse_and()?;
        while self.is_kw("OR") {
            self.require_condition(&left, start, "the left side of OR")?;
            self.skip();
            let rstart = self.peek().span;
            let (right, rd) = self.parse_and()?;
            self.require_condition(&right, rstart, "the right side of OR")?;
            ld = self.check_depth(1 + ld.max(rd))?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok((left, ld))
    }

    fn parse_and(&mut self) -> PResult<(Expr, usize)> {
        let start = self.peek().span;
        let (mut left, mut ld) = self.parse_not()?;
        while self.is_kw("AND") {
            self.require_condition(&left, start, "the left side of AND")?;
            self.skip();
            let rstart = self.peek().span;
            let (right, rd) = self.parse_not()?;
            self.require_condition(&right, rstart, "the right side of AND")?;
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
        self.skip();
        let start = self.peek().span;
        if self.is_kw("NOT") {
            return Err(ParseError::new("NOT cannot directly follow NOT", start)
                .with_hint("use parentheses: NOT (NOT ...)"));
        }
        let (e, d) = self.parse_predicate()?;
        self.require_condition(&e, start, "NOT")?;
        let d = self.check_depth(d + 1)?;
        Ok((Expr::Not(Box::new(e)), d))
    }

    /// `<predicate>`, or a value / parenthesised condition when no
    /// predicate operator follows.
    fn parse_predicate(&mut self) -> PResult<(Expr, usize)> {
        if self.is_kw("EXISTS") {
            return self.parse_exists();
        }
        let start = self.peek().span;
        let (left, ld) = self.parse_binary(0, "an expression")?;
        if let Some(op) = compare_op(self.peek_kind()) {
            return self.parse_comparison(op, left, ld, start);
        }
        let kw = ["NOT", "BETWEEN", "IN", "LIKE", "ILIKE", "IS"]
            .into_iter()
            .find(|k| self.is_kw(k));
        match kw {
            None => Ok((left, ld)),
            Some(_) => self.parse_predicate_rest(left, ld, start),
        }
    }

    #[inline(never)]
    fn parse_exists(&mut self) -> PResult<(Expr, usize)> {
        self.skip();
        let (q, d) = self.parse_table_subquery("EXISTS")?;
        Ok((Expr::Exists(Box::new(q)), d))
    }

    #[inline(never)]
    fn parse_comparison(
        &mut self,
        op: CompareOp,
        left: Expr,
        ld: usize,
        start: Span,
    ) -> PResult<(Expr, usize)> {
        self.require_value(&left, start, "the left side of a comparison")?;
        let optok = self.advance();
        if self.at_subquery() {
            return Err(self.scalar_subquery_error());
        }
        if matches!(
            self.peek_kind(),
            TokenKind::Eq | TokenKind::Lt | TokenKind::Gt
        ) {
            let t = self.peek();
            return Err(ParseError::new(
                format!(
                    "unexpected '{}' after '{}'",
                    t.kind.symbol(),
                    optok.kind.symbol()
                ),
                t.span,
            )
            .with_hint("comparison operators are =, <>, !=, <, >, <=, >="));
        }
        let rstart = self.peek().span;
        let (right, rd) = self.parse_binary(0, "a value after the comparison operator")?;
        self.require_value(&right, rstart, "the right side of a comparison")?;
        let d = self.check_depth(1 + ld.max(rd))?;
        Ok((
            Expr::Comparison {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
            d,
        ))
    }

    #[cold]
    #[inline(never)]
    fn scalar_subquery_error(&self) -> ParseError {
        ParseError::new("scalar subqueries are not part of ADQL", self.peek().span)
            .with_hint("subqueries are allowed in FROM, after IN and after EXISTS")
    }

    /// `[NOT] BETWEEN | IN | LIKE | ILIKE` and `IS [NOT] NULL`.
    #[inline(never)]
    fn parse_predicate_rest(
        &mut self,
        left: Expr,
        ld: usize,
        start: Span,
    ) -> PResult<(Expr, usize)> {
        let negated = if self.is_kw("NOT") {
            if ["BETWEEN", "IN", "LIKE", "ILIKE"]
                .iter()
                .any(|k| self.is_kw_at(1, k))
            {
                self.skip();
                true
            } else {
                return Err(ParseError::new(
                    "NOT must be followed by BETWEEN, IN, LIKE or ILIKE here",
                    self.peek().span,
                )
                .with_hint("to negate a condition write NOT before it, e.g. NOT a = 1"));
            }
        } else {
            false
        };
        self.require_value(&left, start, "the left side of a predicate")?;
        let kwtok = self.advance();
        let TokenKind::Word(kw) = &kwtok.kind else {
            return Err(self.expected("a predicate"));
        };
        let left = Box::new(left);
        match kw.to_ascii_uppercase().as_str() {
            "BETWEEN" => {
                let (low, d1) = self.parse_value("the lower bound of BETWEEN")?;
                self.expect_kw("AND", "between the bounds of BETWEEN")?;
                let (high, d2) = self.parse_value("the upper bound of BETWEEN")?;
                let d = self.check_depth(1 + ld.max(d1).max(d2))?;
                Ok((
                    Expr::Between {
                        expr: left,
                        negated,
                        low: Box::new(low),
                        high: Box::new(high),
                    },
                    d,
                ))
            }
            "IN" => self.parse_in(left, ld, negated),
            "LIKE" | "ILIKE" => {
                let ci = kw.eq_ignore_ascii_case("ILIKE");
                if ci {
                    self.require_2_1("ILIKE", &kwtok)?;
                }
                let (pattern, pd) = self.parse_value(if ci {
                    "the pattern after ILIKE"
                } else {
                    "the pattern after LIKE"
                })?;
                if self.is_kw("ESCAPE") {
                    return Err(ParseError::new(
                        "LIKE ... ESCAPE is not part of ADQL",
                        self.peek().span,
                    ));
                }
                let d = self.check_depth(1 + ld.max(pd))?;
                Ok((
                    Expr::Like {
                        expr: left,
                        negated,
                        case_insensitive: ci,
                        pattern: Box::new(pattern),
                    },
                    d,
                ))
            }
            _ => {
                // `<null_predicate> ::= <column_reference> IS [NOT] NULL`
                let negated = self.eat_kw("NOT");
                if !self.eat_kw("NULL") {
                    return Err(self.expected_with(
                        if negated {
                            "NULL after IS NOT"
                        } else {
                            "NULL or NOT NULL after IS"
                        },
                        &["NULL"],
                    ));
                }
                if !matches!(*left, Expr::Column(_)) {
                    return Err(ParseError::new(
                        "IS NULL can only be applied to a column reference in ADQL",
                        start,
                    )
                    .with_hint("the grammar is <column_reference> IS [NOT] NULL"));
                }
                Ok((
                    Expr::IsNull {
                        expr: left,
                        negated,
                    },
                    self.check_depth(ld + 1)?,
                ))
            }
        }
    }

    fn parse_in(&mut self, left: Box<Expr>, ld: usize, negated: bool) -> PResult<(Expr, usize)> {
        if !matches!(self.peek_kind(), TokenKind::LParen) {
            return Err(self.expected("'(' after IN"));
        }
        if self.at_subquery() {
            let (q, qd) = self.parse_table_subquery("IN")?;
            let d = self.check_depth(1 + ld.max(qd))?;
            return Ok((
                Expr::InSubquery {
                    expr: left,
                    negated,
                    subquery: Box::new(q),
                },
                d,
            ));
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
        Ok((
            Expr::InList {
                expr: left,
                negated,
                list,
            },
            d,
        ))
    }

    /// Binary operators binding at least as tightly as `min_prec`
    /// (precedence climbing; all left-associative).
    fn parse_binary(&mut self, min_prec: u8, what: &str) -> PResult<(Expr, usize)> {
        let start = self.peek().span;
        let (mut left, mut ld) = self.parse_unary(what)?;
        while let Some((op, prec)) = binary_op(self.peek_kind()) {
            if prec < min_prec {
                break;
            }
            self.binary_operator(op, &left, start)?;
            let rstart = self.peek().span;
            let (right, rd) = self.parse_binary(prec + 1, after_operator(op))?;
            self.require_value(&right, rstart, after_operator(op))?;
            ld = self.check_depth(1 + ld.max(rd))?;
            left = Expr::Binary {
                op,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok((left, ld))
    }

    /// Consumes a binary operator after checking its left operand.
    #[inline(never)]
    fn binary_operator(&mut self, op: BinaryOp, left: &Expr, start: Span) -> PResult<()> {
        let optok = self.advance();
        if matches!(op, BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor) {
            self.require_2_1("bitwise operators (&, |, ^, ~)", &optok)?;
        }
        self.require_value(left, start, "the left operand of an operator")?;
        if matches!(self.peek_kind(), TokenKind::Eof) {
            return Err(self.expected(after_operator(op)));
        }
        Ok(())
    }

    /// `<factor> ::= [<sign>] <numeric_primary>` (one sign only), and `~`.
    fn parse_unary(&mut self, what: &str) -> PResult<(Expr, usize)> {
        let op = match self.peek_kind() {
            TokenKind::Minus => UnaryOp::Minus,
            TokenKind::Plus => UnaryOp::Plus,
            TokenKind::Tilde => UnaryOp::BitNot,
            _ => return self.parse_primary(what),
        };
        self.unary_operator(op)?;
        let start = self.peek().span;
        let (e, d) = self.parse_primary(what)?;
        self.require_value(&e, start, "the operand of a sign")?;
        let d = self.check_depth(d + 1)?;
        Ok((
            Expr::Unary {
                op,
                expr: Box::new(e),
            },
            d,
        ))
    }

    #[inline(never)]
    fn unary_operator(&mut self, op: UnaryOp) -> PResult<()> {
        let optok = self.advance();
        if op == UnaryOp::BitNot {
            self.require_2_1("bitwise operators (&, |, ^, ~)", &optok)?;
        }
        if matches!(
            self.peek_kind(),
            TokenKind::Minus | TokenKind::Plus | TokenKind::Tilde
        ) {
            return Err(ParseError::new("two signs in a row", self.peek().span)
                .with_hint("use parentheses, e.g. -(-x)"));
        }
        Ok(())
    }

    /// `<value_expression_primary>` and function calls.
    fn parse_primary(&mut self, what: &str) -> PResult<(Expr, usize)> {
        match self.peek_kind() {
            TokenKind::LParen => self.parse_parenthesised(),
            TokenKind::Word(_) => self.parse_word(what),
            TokenKind::Delimited(_) => {
                if matches!(self.peek_at(1).kind, TokenKind::LParen) {
                    return Err(ParseError::new(
                        "a function name cannot be a delimited (quoted) identifier",
                        self.peek().span,
                    ));
                }
                self.parse_column_ref()
            }
            TokenKind::Number(..) | TokenKind::String(_) => self.parse_literal(),
            _ => Err(self.primary_error(what)),
        }
    }

    #[inline(never)]
    fn parse_literal(&mut self) -> PResult<(Expr, usize)> {
        let t = self.advance();
        if matches!(t.kind, TokenKind::Number(_, NumberKind::Hex)) {
            self.require_2_1("hexadecimal literals", &t)?;
        }
        match t.kind {
            TokenKind::Number(text, kind) => Ok((Expr::Literal(Literal::Number { text, kind }), 1)),
            TokenKind::String(s) => Ok((Expr::Literal(Literal::String(s)), 1)),
            _ => Err(self.expected("a literal")),
        }
    }

    #[cold]
    #[inline(never)]
    fn primary_error(&self, what: &str) -> ParseError {
        let t = self.peek();
        match &t.kind {
            TokenKind::Star => ParseError::new(format!("expected {what}, found '*'"), t.span)
                .with_hint("'*' is only allowed as the whole select list or in COUNT(*)"),
            TokenKind::RParen => ParseError::new(format!("expected {what}, found ')'"), t.span),
            _ => self.expected(what),
        }
    }

    /// `( search_condition )` or `( value_expression )`.
    #[inline(never)]
    fn parse_parenthesised(&mut self) -> PResult<(Expr, usize)> {
        if self.at_subquery() {
            return Err(self.scalar_subquery_error());
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

    /// A word: function call, NULL, or column reference.
    #[inline(never)]
    fn parse_word(&mut self, what: &str) -> PResult<(Expr, usize)> {
        let t = self.peek().clone();
        let TokenKind::Word(w) = &t.kind else {
            return Err(self.expected(what));
        };
        if matches!(self.peek_at(1).kind, TokenKind::LParen) {
            return self.parse_function_call(&t, w);
        }
        if w.eq_ignore_ascii_case("NULL") {
            if self.version == Version::V2_0 {
                return Err(ParseError::new(
                    "NULL is only allowed in IS [NOT] NULL in ADQL 2.0 (NULL as a value is new in ADQL 2.1)",
                    t.span,
                ));
            }
            self.skip();
            return Ok((Expr::Literal(Literal::Null), 1));
        }
        if is_reserved(w, self.version) {
            return Err(self.reserved_word_as_value(&t.span, w, what));
        }
        self.parse_column_ref()
    }

    #[cold]
    #[inline(never)]
    fn reserved_word_as_value(&self, span: &Span, w: &str, what: &str) -> ParseError {
        let up = w.to_ascii_uppercase();
        match up.as_str() {
            "TRUE" | "FALSE" => ParseError::new(format!("{up} is a reserved word; ADQL has no boolean literals"), *span)
                .with_hint("compare with 1 or 0 instead"),
            "CASE" => ParseError::new("CASE expressions are not part of ADQL", *span)
                .with_hint("COALESCE is available in ADQL 2.1"),
            "SELECT" => ParseError::new("a subquery must be enclosed in parentheses", *span),
            _ if Function::standard(w).is_some()
                || GEOMETRY_FUNCTIONS.contains(&up.as_str())
                || AggregateFunction::from_name(w).is_some() =>
            {
                ParseError::new(format!("'{w}' is a reserved word (an ADQL function name) and cannot be used as a column name"), *span)
                    .with_hint(format!("write \"{w}\" (in double quotes) to use it as a column name, or call it as {up}(...)"))
            }
            _ if KEYWORDS.contains(&up.as_str()) => ParseError::new(format!("expected {what}, found {up}"), *span),
            _ => ParseError::new(format!("expected {what}, found the reserved word '{w}'"), *span)
                .with_hint(format!("write \"{w}\" (in double quotes) to use it as an identifier")),
        }
    }

    /// `<column_reference>`: up to four dotted parts.
    #[inline(never)]
    fn parse_column_ref(&mut self) -> PResult<(Expr, usize)> {
        let start = self.peek().span;
        let mut parts = vec![self.parse_ident("a column name")?];
        while matches!(self.peek_kind(), TokenKind::Dot) {
            self.skip();
            if matches!(self.peek_kind(), TokenKind::Star) {
                return Err(ParseError::new(
                    "'table.*' is only allowed as an item of the select list",
                    self.peek().span,
                ));
            }
            parts.push(self.parse_ident("a column name")?);
        }
        if parts.len() > 4 {
            return Err(ParseError::new(
                "a column reference has at most four parts (catalog.schema.table.column)",
                start,
            ));
        }
        let column = parts.pop().ok_or_else(|| self.expected("a column name"))?;
        Ok((
            Expr::Column(ColumnRef {
                qualifier: parts,
                column,
            }),
            1,
        ))
    }
}
