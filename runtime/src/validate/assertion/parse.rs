//! Tokenizer and recursive-descent parser for the EBNF of `spec/HAND-FORMAT.md`.
//!
//! Offsets are in characters. A `ref` is one token: the spec recognises it by the `-` after
//! its segment id, and lexing it whole keeps `PID-3.4.2` from being split into numbers.

use super::{AssertionError, CmpOp, CountTarget, Expr, Operand, Pattern, Ref, RelOp, Rhs};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    And,
    Or,
    Not,
    In,
    Any,
    Present,
    Absent,
    Matches,
    Count,
}

impl Kw {
    fn from_word(w: &str) -> Option<Kw> {
        // Case-sensitive on purpose: the spec reserves these spellings only.
        Some(match w {
            "AND" => Kw::And,
            "OR" => Kw::Or,
            "NOT" => Kw::Not,
            "IN" => Kw::In,
            "ANY" => Kw::Any,
            "present" => Kw::Present,
            "absent" => Kw::Absent,
            "matches" => Kw::Matches,
            "count" => Kw::Count,
            _ => return None,
        })
    }

    fn spelling(self) -> &'static str {
        match self {
            Kw::And => "AND",
            Kw::Or => "OR",
            Kw::Not => "NOT",
            Kw::In => "IN",
            Kw::Any => "ANY",
            Kw::Present => "present",
            Kw::Absent => "absent",
            Kw::Matches => "matches",
            Kw::Count => "count",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Op(RelOp),
    Kw(Kw),
    Ref(Ref),
    SegId(String),
    Int(String),
    Str(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    at: usize,
}

fn describe(t: Option<&Token>) -> String {
    match t.map(|t| &t.tok) {
        None => "end of input".to_owned(),
        Some(Tok::LParen) => "`(`".to_owned(),
        Some(Tok::RParen) => "`)`".to_owned(),
        Some(Tok::Comma) => "`,`".to_owned(),
        Some(Tok::Op(op)) => format!("`{}`", op.symbol()),
        Some(Tok::Kw(k)) => format!("keyword `{}`", k.spelling()),
        Some(Tok::Ref(r)) => format!("path `{r}`"),
        Some(Tok::SegId(s)) => format!("segment id `{s}`"),
        Some(Tok::Int(n)) => format!("integer `{n}`"),
        Some(Tok::Str(_)) => "a string".to_owned(),
    }
}

struct Lexer<'c> {
    chars: &'c [char],
    pos: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_segid(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() == 3
        && b.first().is_some_and(|c| c.is_ascii_uppercase())
        && b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn word_end(&self, from: usize) -> usize {
        let mut i = from;
        while self.peek_at(i).is_some_and(is_word_char) {
            i += 1;
        }
        i
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars.get(from..to).map(|s| s.iter().collect()).unwrap_or_default()
    }

    fn tokens(mut self) -> Result<Vec<Token>, AssertionError> {
        let mut out = Vec::new();
        loop {
            while self.peek().is_some_and(char::is_whitespace) {
                self.pos += 1;
            }
            let at = self.pos;
            let Some(c) = self.peek() else { return Ok(out) };
            let tok = match c {
                '(' => self.single(Tok::LParen),
                ')' => self.single(Tok::RParen),
                ',' => self.single(Tok::Comma),
                '=' => self.single(Tok::Op(RelOp::Eq)),
                '!' => {
                    if self.peek_at(at + 1) == Some('=') {
                        self.pos += 2;
                        Tok::Op(RelOp::Ne)
                    } else {
                        return Err(AssertionError::new(at, "expected `!=`"));
                    }
                }
                '<' | '>' => {
                    let eq = self.peek_at(at + 1) == Some('=');
                    self.pos += if eq { 2 } else { 1 };
                    Tok::Op(match (c, eq) {
                        ('<', false) => RelOp::Lt,
                        ('<', true) => RelOp::Le,
                        (_, false) => RelOp::Gt,
                        (_, true) => RelOp::Ge,
                    })
                }
                '\'' => self.string()?,
                '0'..='9' => {
                    let mut end = at;
                    while self.peek_at(end).is_some_and(|c| c.is_ascii_digit()) {
                        end += 1;
                    }
                    self.pos = end;
                    Tok::Int(self.text(at, end))
                }
                c if is_word_char(c) => self.word()?,
                c => return Err(AssertionError::new(at, format!("unexpected character `{c}`"))),
            };
            out.push(Token { tok, at });
        }
    }

    fn single(&mut self, t: Tok) -> Tok {
        self.pos += 1;
        t
    }

    fn string(&mut self) -> Result<Tok, AssertionError> {
        let open = self.pos;
        let mut s = String::new();
        let mut i = open + 1;
        loop {
            match self.peek_at(i) {
                None => return Err(AssertionError::new(open, "unterminated string")),
                Some('\'') if self.peek_at(i + 1) == Some('\'') => {
                    s.push('\'');
                    i += 2;
                }
                Some('\'') => {
                    self.pos = i + 1;
                    return Ok(Tok::Str(s));
                }
                Some(c) => {
                    s.push(c);
                    i += 1;
                }
            }
        }
    }

    fn word(&mut self) -> Result<Tok, AssertionError> {
        let at = self.pos;
        let end = self.word_end(at);
        let w = self.text(at, end);
        if w == "original" && self.peek_at(end) == Some('.') {
            let seg_at = end + 1;
            let seg_end = self.word_end(seg_at);
            let seg = self.text(seg_at, seg_end);
            if !is_segid(&seg) || Kw::from_word(&seg).is_some() || self.peek_at(seg_end) != Some('-') {
                return Err(AssertionError::new(seg_at, "expected a path `SEG-f` after `original.`"));
            }
            self.pos = seg_end;
            return self.reference(true, seg);
        }
        if let Some(k) = Kw::from_word(&w) {
            self.pos = end;
            return Ok(Tok::Kw(k));
        }
        if !is_segid(&w) {
            return Err(AssertionError::new(at, format!("unknown word `{w}` (keywords are case-sensitive; a segment id is 3 upper-case letters or digits)")));
        }
        self.pos = end;
        if self.peek() == Some('-') {
            self.reference(false, w)
        } else {
            Ok(Tok::SegId(w))
        }
    }

    /// The rest of a ref, from the `-` after its segment id: the element part of the path
    /// grammar (`crate::path::syntax`), read from the ASCII run that holds it.
    fn reference(&mut self, original: bool, segment: String) -> Result<Tok, AssertionError> {
        // A path is ASCII, so its characters are its bytes: positions carry over.
        let run: String = self.chars.get(self.pos..).unwrap_or(&[]).iter().take_while(|c| c.is_ascii() && !c.is_ascii_whitespace()).collect();
        let (e, end) = crate::path::syntax::element_at(&run, 0, usize::from(u16::MAX)).map_err(|e| match e {
            crate::error::PathError::Syntax { position, reason, .. } => AssertionError::new(self.pos + position, reason),
        })?;
        self.pos += end;
        if self.peek().is_some_and(|c| is_word_char(c) || c == '.' || c == '[') {
            return Err(AssertionError::new(self.pos, "unexpected character after a path (at most field, component and subcomponent)"));
        }
        // Positions were capped at u16::MAX by the grammar.
        let pos = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        Ok(Tok::Ref(Ref {
            original,
            segment,
            field: pos(e.field),
            repetition: e.repetition.map(pos),
            component: e.component.map(pos),
            subcomponent: e.subcomponent.map(pos),
        }))
    }
}

/// Nesting of `(` and `NOT` allowed: far beyond any real rule, low enough that a hostile
/// input cannot exhaust the stack of the parser or of `eval`.
const MAX_DEPTH: usize = 64;

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Where "end of input" errors point.
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn at(&self) -> usize {
        self.peek().map_or(self.len, |t| t.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek().is_some_and(|t| &t.tok == tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<(), AssertionError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }

    fn unexpected(&self, what: &str) -> AssertionError {
        AssertionError::new(self.at(), format!("expected {what}, found {}", describe(self.peek())))
    }

    fn or(&mut self) -> Result<Expr, AssertionError> {
        let mut xs = vec![self.and()?];
        while self.eat(&Tok::Kw(Kw::Or)) {
            xs.push(self.and()?);
        }
        Ok(if xs.len() == 1 { xs.remove(0) } else { Expr::Or(xs) })
    }

    fn and(&mut self) -> Result<Expr, AssertionError> {
        let mut xs = vec![self.not()?];
        while self.eat(&Tok::Kw(Kw::And)) {
            xs.push(self.not()?);
        }
        Ok(if xs.len() == 1 { xs.remove(0) } else { Expr::And(xs) })
    }

    fn not(&mut self) -> Result<Expr, AssertionError> {
        if self.depth >= MAX_DEPTH {
            return Err(AssertionError::new(self.at(), format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        let e = if self.eat(&Tok::Kw(Kw::Not)) { self.not().map(|x| Expr::Not(Box::new(x))) } else { self.primary() };
        self.depth -= 1;
        e
    }

    fn primary(&mut self) -> Result<Expr, AssertionError> {
        let Some(t) = self.peek() else { return Err(self.unexpected("an expression")) };
        match t.tok {
            Tok::LParen => {
                self.pos += 1;
                let e = self.or()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(e)
            }
            Tok::Kw(Kw::Present) | Tok::Kw(Kw::Absent) => {
                let present = t.tok == Tok::Kw(Kw::Present);
                self.pos += 1;
                self.expect(&Tok::LParen, "`(`")?;
                let r = self.reference()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(if present { Expr::Present(r) } else { Expr::Absent(r) })
            }
            Tok::Kw(Kw::Matches) => {
                self.pos += 1;
                self.expect(&Tok::LParen, "`(`")?;
                let o = self.operand()?;
                self.expect(&Tok::Comma, "`,`")?;
                let at = self.at();
                let source = self.string()?;
                if let Some(class) = perl_class(&source) {
                    return Err(AssertionError::new(at, format!("`\\{class}` is not accepted in a pattern: patterns spell their classes (the Unicode meaning of `\\d`, `\\w`, `\\s`, `\\b` and `\\p{{…}}` would accept more than HL7 means, digits of every script for `\\d`); write the class, such as [0-9]")));
                }
                let regex = regex::Regex::new(&format!("^(?:{source})$"))
                    .map_err(|e| AssertionError::new(at, format!("invalid regular expression: {e}")))?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(Expr::Matches(o, Pattern { source, regex }))
            }
            Tok::Kw(Kw::Count) => {
                self.pos += 1;
                self.expect(&Tok::LParen, "`(`")?;
                let target = match self.next() {
                    Some(Token { tok: Tok::Ref(r), .. }) => CountTarget::Ref(r),
                    Some(Token { tok: Tok::SegId(s), .. }) => CountTarget::Segment(s),
                    _ => {
                        self.pos = self.pos.saturating_sub(1);
                        return Err(self.unexpected("a path or a segment id"));
                    }
                };
                self.expect(&Tok::RParen, "`)`")?;
                let op = match self.peek().map(|t| &t.tok) {
                    Some(Tok::Op(op)) => *op,
                    _ => return Err(self.unexpected("a comparison operator")),
                };
                self.pos += 1;
                let at = self.at();
                let n = match self.next() {
                    Some(Token { tok: Tok::Int(digits), .. }) => {
                        digits.parse::<u32>().map_err(|_| AssertionError::new(at, "integer too large"))?
                    }
                    _ => {
                        self.pos = self.pos.saturating_sub(1);
                        return Err(self.unexpected("an integer"));
                    }
                };
                Ok(Expr::Count { target, op, n })
            }
            _ => self.comparison(),
        }
    }

    fn comparison(&mut self) -> Result<Expr, AssertionError> {
        let left = self.operand()?;
        let at = self.at();
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Op(RelOp::Eq)) | Some(Tok::Op(RelOp::Ne)) => {
                let op = if self.eat(&Tok::Op(RelOp::Eq)) {
                    CmpOp::Eq
                } else {
                    self.pos += 1;
                    CmpOp::Ne
                };
                let right = match self.peek().map(|t| &t.tok) {
                    Some(Tok::Str(_)) => Rhs::Literal(self.string()?),
                    Some(Tok::Ref(_)) | Some(Tok::Kw(Kw::Any)) => Rhs::Operand(self.operand()?),
                    _ => return Err(self.unexpected("a path or a quoted string")),
                };
                Ok(Expr::Compare { left, op, right })
            }
            Some(Tok::Op(_)) => Err(AssertionError::new(at, "element values compare only with `=` and `!=` (order comparisons are for `count`)")),
            Some(Tok::Kw(Kw::In)) => {
                self.pos += 1;
                self.expect(&Tok::LParen, "`(`")?;
                let mut list = vec![self.string()?];
                while self.eat(&Tok::Comma) {
                    list.push(self.string()?);
                }
                self.expect(&Tok::RParen, "`,` or `)`")?;
                Ok(Expr::In(left, list))
            }
            _ => Err(self.unexpected("`=`, `!=` or `IN`")),
        }
    }

    fn operand(&mut self) -> Result<Operand, AssertionError> {
        if self.eat(&Tok::Kw(Kw::Any)) {
            self.expect(&Tok::LParen, "`(`")?;
            let r = self.reference()?;
            self.expect(&Tok::RParen, "`)`")?;
            Ok(Operand::Any(r))
        } else {
            Ok(Operand::Ref(self.reference()?))
        }
    }

    fn reference(&mut self) -> Result<Ref, AssertionError> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Ref(r)) => {
                let r = r.clone();
                self.pos += 1;
                Ok(r)
            }
            _ => Err(self.unexpected("a path `SEG-f`")),
        }
    }

    fn string(&mut self) -> Result<String, AssertionError> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.unexpected("a quoted string")),
        }
    }
}

/// Parses one predicate condition or conformance assertion.
pub fn parse(text: &str) -> Result<Expr, AssertionError> {
    let chars: Vec<char> = text.chars().collect();
    let toks = Lexer { chars: &chars, pos: 0 }.tokens()?;
    let mut p = Parser { toks, pos: 0, depth: 0, len: chars.len() };
    let e = p.or()?;
    if p.peek().is_some() {
        return Err(p.unexpected("`AND`, `OR` or end of input"));
    }
    Ok(e)
}

/// The first Perl class, word boundary or Unicode class (`\d`, `\D`, `\s`, `\S`, `\w`, `\W`,
/// `\b`, `\B`, `\p`, `\P`) a pattern uses, outside an escaped backslash: the `regex` crate
/// gives them their Unicode meaning (and `\p` would compile or not depending on which of its
/// Unicode tables the build happens to include).
fn perl_class(pattern: &str) -> Option<char> {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(k @ ('d' | 'D' | 's' | 'S' | 'w' | 'W' | 'b' | 'B' | 'p' | 'P')) => return Some(k),
                _ => continue,
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Expr};

    fn pattern(source: &str) -> Result<regex::Regex, String> {
        match parse(&format!("matches(OBX-4, '{source}')")) {
            Ok(Expr::Matches(_, p)) => Ok(p.regex),
            Ok(other) => Err(format!("not a pattern: {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn patterns_are_anchored_at_both_ends() {
        let re = pattern(r"[1-9][0-9]*\.[12]").unwrap();
        assert!(re.is_match("12.1"));
        assert!(!re.is_match("12.3"));
        assert!(!re.is_match("x12.1"), "anchored at the start");
        assert!(!re.is_match("12.12"), "anchored at the end");
        // The guide's NIR key, with an alternation that the anchors must not split.
        let nir = pattern("[0-9]{5}(2A|2B|[0-9]{2})[0-9]{8}").unwrap();
        assert!(nir.is_match("288056912304561"));
        assert!(nir.is_match("188052A12345678"));
        assert!(!nir.is_match("2880569123045612"));
    }

    #[test]
    fn perl_classes_and_word_boundaries_are_refused_with_the_class_to_write() {
        for class in ['d', 'D', 's', 'S', 'w', 'W', 'b', 'B', 'p', 'P'] {
            let e = pattern(&format!("[1-9]\\{class}+")).unwrap_err();
            assert!(e.contains(&format!("`\\{class}` is not accepted")), "{class}: {e}");
            assert!(e.contains("[0-9]"), "{e}");
        }
        // An escaped backslash followed by a letter is a backslash and the letter.
        let re = pattern(r"a\\d").unwrap();
        assert!(re.is_match(r"a\d"));
        assert!(!re.is_match("a1"));
    }

    #[test]
    fn an_invalid_pattern_is_an_error_located_in_the_expression() {
        let e = pattern("[0-9").unwrap_err();
        assert!(e.contains("invalid regular expression"), "{e}");
    }
}
