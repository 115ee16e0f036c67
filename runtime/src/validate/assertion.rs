//! The assertion language of the hand-kept rules (`spec/HAND-FORMAT.md`, "Assertion
//! language"): predicates and conformance statements are parsed once into an [`Expr`] and
//! evaluated, with three-valued logic, in every occurrence of their context ([`contexts`]).

mod context;
mod eval;
mod parse;

use std::fmt;

pub use context::{contexts, segment_scope, Scope};
pub(crate) use context::{contexts_in, Context, Occurrences, Walk};
pub(crate) use eval::{with_value, Memo};
pub use eval::{eval, locate, value_of, Truth};
pub use parse::parse;

/// A rule string or a context that does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {at}: {message}")]
pub struct AssertionError {
    /// Offset in characters (not bytes) from the start of the text, so that it can point
    /// into a rule with accented literals.
    pub at: usize,
    pub message: String,
}

impl AssertionError {
    pub(crate) fn new(at: usize, message: impl Into<String>) -> Self {
        AssertionError { at, message: message.into() }
    }
}

/// A parsed expression. `Or`/`And` hold two or more operands (a chain `a AND b AND c` stays
/// flat, which keeps findings readable and evaluation shallow).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Present(Ref),
    Absent(Ref),
    Matches(Operand, Pattern),
    Compare { left: Operand, op: CmpOp, right: Rhs },
    In(Operand, Vec<String>),
    Count { target: CountTarget, op: RelOp, n: u32 },
}

impl Expr {
    /// Every element path the expression reads, in reading order, and every segment id it
    /// counts (`count(TQ1)`): what a finding is located at, what a failure shows, and what the
    /// code generator checks against the base definitions.
    pub fn reads(&self) -> (Vec<&Ref>, Vec<&str>) {
        fn walk<'e>(e: &'e Expr, refs: &mut Vec<&'e Ref>, segments: &mut Vec<&'e str>) {
            match e {
                Expr::Or(xs) | Expr::And(xs) => xs.iter().for_each(|x| walk(x, refs, segments)),
                Expr::Not(x) => walk(x, refs, segments),
                Expr::Present(r) | Expr::Absent(r) => refs.push(r),
                Expr::Matches(o, _) | Expr::In(o, _) => refs.push(o.path()),
                Expr::Compare { left, right, .. } => {
                    refs.push(left.path());
                    if let Rhs::Operand(o) = right {
                        refs.push(o.path());
                    }
                }
                Expr::Count { target: CountTarget::Ref(r), .. } => refs.push(r),
                Expr::Count { target: CountTarget::Segment(s), .. } => segments.push(s),
            }
        }
        let (mut refs, mut segments) = (Vec::new(), Vec::new());
        walk(self, &mut refs, &mut segments);
        (refs, segments)
    }
}

/// A path to an element: `[original.]SEG-f[[r]][.c[.s]]`, all positions 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ref {
    /// The element is read from the message being acknowledged, not the evaluated one.
    pub original: bool,
    pub segment: String,
    pub field: u16,
    pub repetition: Option<u16>,
    pub component: Option<u16>,
    pub subcomponent: Option<u16>,
}

/// What a comparison reads: one element, or every repetition of its field (`ANY(...)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Ref(Ref),
    Any(Ref),
}

impl Operand {
    pub fn path(&self) -> &Ref {
        match self {
            Operand::Ref(r) | Operand::Any(r) => r,
        }
    }
}

/// The right-hand side of `=` / `!=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rhs {
    Operand(Operand),
    Literal(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl RelOp {
    pub fn holds(self, a: u64, b: u64) -> bool {
        match self {
            RelOp::Eq => a == b,
            RelOp::Ne => a != b,
            RelOp::Lt => a < b,
            RelOp::Le => a <= b,
            RelOp::Gt => a > b,
            RelOp::Ge => a >= b,
        }
    }
    pub fn symbol(self) -> &'static str {
        match self {
            RelOp::Eq => "=",
            RelOp::Ne => "!=",
            RelOp::Lt => "<",
            RelOp::Le => "<=",
            RelOp::Gt => ">",
            RelOp::Ge => ">=",
        }
    }
}

/// What `count(...)` counts: repetitions of a field, or segments in the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountTarget {
    Ref(Ref),
    Segment(String),
}

/// A `matches` pattern: the source as written and the regex compiled once, anchored.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    pub regex: regex::Regex,
}

/// Two patterns are the same when written the same (compiled regexes are not comparable).
impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.original {
            f.write_str("original.")?;
        }
        write!(f, "{}-{}", self.segment, self.field)?;
        if let Some(r) = self.repetition {
            write!(f, "[{r}]")?;
        }
        if let Some(c) = self.component {
            write!(f, ".{c}")?;
        }
        if let Some(s) = self.subcomponent {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Ref(r) => write!(f, "{r}"),
            Operand::Any(r) => write!(f, "ANY({r})"),
        }
    }
}

/// Prints the expression back in the assertion language, fully parenthesised where the
/// precedence would otherwise be needed, so that `parse(e.to_string())` gives `e` back.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn chain(f: &mut fmt::Formatter<'_>, xs: &[Expr], sep: &str) -> fmt::Result {
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                match x {
                    Expr::Or(_) | Expr::And(_) => write!(f, "({x})")?,
                    _ => write!(f, "{x}")?,
                }
            }
            Ok(())
        }
        match self {
            Expr::Or(xs) => chain(f, xs, " OR "),
            Expr::And(xs) => chain(f, xs, " AND "),
            Expr::Not(x) => match **x {
                Expr::Or(_) | Expr::And(_) | Expr::Compare { .. } | Expr::In(..) | Expr::Count { .. } => {
                    write!(f, "NOT ({x})")
                }
                _ => write!(f, "NOT {x}"),
            },
            Expr::Present(r) => write!(f, "present({r})"),
            Expr::Absent(r) => write!(f, "absent({r})"),
            Expr::Matches(o, p) => write!(f, "matches({o}, {})", quote(&p.source)),
            Expr::Compare { left, op, right } => {
                let op = match op {
                    CmpOp::Eq => "=",
                    CmpOp::Ne => "!=",
                };
                match right {
                    Rhs::Operand(o) => write!(f, "{left} {op} {o}"),
                    Rhs::Literal(s) => write!(f, "{left} {op} {}", quote(s)),
                }
            }
            Expr::In(o, list) => {
                let items: Vec<String> = list.iter().map(|s| quote(s)).collect();
                write!(f, "{o} IN ({})", items.join(","))
            }
            Expr::Count { target, op, n } => {
                match target {
                    CountTarget::Ref(r) => write!(f, "count({r})")?,
                    CountTarget::Segment(s) => write!(f, "count({s})")?,
                }
                write!(f, " {} {n}", op.symbol())
            }
        }
    }
}
