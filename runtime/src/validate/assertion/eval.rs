//! Three-valued evaluation of an [`Expr`] in a [`Scope`].

use crate::er7::{Delimiters, Field, Message, Segment};
use crate::structure::{GroupInstance, Item};
use crate::typed::Part;

use super::{CmpOp, CountTarget, Expr, Operand, Ref, Rhs, Scope};

/// The outcome of a rule in one scope. `Unknown` only when the rule reads the acknowledged
/// message (`original.`) and none was given: such a rule is "not evaluated", never passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn from_bool(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// Marks a value that cannot be read because the acknowledged message is missing.
struct Unknown;

/// The values an operand ranges over: one for a path, one per repetition for `ANY`;
/// `None` is an absent value.
type Values = Vec<Option<String>>;

/// Evaluates `expr` in `scope`.
pub fn eval(expr: &Expr, scope: &Scope<'_, '_>) -> Truth {
    match expr {
        Expr::Or(xs) => {
            let mut unknown = false;
            for x in xs {
                match eval(x, scope) {
                    Truth::True => return Truth::True,
                    Truth::Unknown => unknown = true,
                    Truth::False => {}
                }
            }
            if unknown {
                Truth::Unknown
            } else {
                Truth::False
            }
        }
        Expr::And(xs) => {
            let mut unknown = false;
            for x in xs {
                match eval(x, scope) {
                    Truth::False => return Truth::False,
                    Truth::Unknown => unknown = true,
                    Truth::True => {}
                }
            }
            if unknown {
                Truth::Unknown
            } else {
                Truth::True
            }
        }
        Expr::Not(x) => eval(x, scope).not(),
        Expr::Present(r) => match value(scope, r) {
            Ok(v) => Truth::from_bool(v.is_some()),
            Err(Unknown) => Truth::Unknown,
        },
        Expr::Absent(r) => match value(scope, r) {
            Ok(v) => Truth::from_bool(v.is_none()),
            Err(Unknown) => Truth::Unknown,
        },
        Expr::Matches(o, p) => match values(scope, o) {
            Ok(vs) => Truth::from_bool(vs.iter().flatten().any(|v| p.regex.is_match(v))),
            Err(Unknown) => Truth::Unknown,
        },
        Expr::In(o, list) => match values(scope, o) {
            Ok(vs) => Truth::from_bool(vs.iter().flatten().any(|v| list.iter().any(|l| l == v))),
            Err(Unknown) => Truth::Unknown,
        },
        Expr::Compare { left, op, right } => {
            let (Ok(ls), Ok(rs)) = (values(scope, left), rhs_values(scope, right)) else {
                return Truth::Unknown;
            };
            // `ANY` on either side is existential: some pair of values satisfies the
            // comparison. Without `ANY` there is exactly one pair, so this is plain `=`/`!=`.
            let holds = ls.iter().any(|l| {
                rs.iter().any(|r| {
                    let eq = matches!((l, r), (Some(a), Some(b)) if a == b);
                    match op {
                        CmpOp::Eq => eq,
                        CmpOp::Ne => !eq,
                    }
                })
            });
            Truth::from_bool(holds)
        }
        Expr::Count { target, op, n } => match count(scope, target) {
            Ok(c) => Truth::from_bool(op.holds(c, u64::from(*n))),
            Err(Unknown) => Truth::Unknown,
        },
    }
}

fn rhs_values(scope: &Scope<'_, '_>, rhs: &Rhs) -> Result<Values, Unknown> {
    match rhs {
        Rhs::Literal(s) => Ok(vec![Some(s.clone())]),
        Rhs::Operand(o) => values(scope, o),
    }
}

/// The first segment with this id directly in `inst`, else in its child groups, depth
/// first (rule 1 of "Resolution of a path").
fn first_in_group<'a>(message: &Message<'a>, inst: &GroupInstance, id: &str) -> Option<Segment<'a>> {
    let direct = inst.items.iter().find_map(|it| match it {
        Item::Segment { segment, .. } | Item::Unexpected { segment } => {
            message.segment(*segment).filter(|s| s.id() == id)
        }
        Item::Group { .. } => None,
    });
    direct.or_else(|| {
        inst.items.iter().find_map(|it| match it {
            Item::Group { group, .. } => first_in_group(message, group, id),
            _ => None,
        })
    })
}

/// The segment a path designates: the context's own segment, else the nearest occurrence
/// (context group, enclosing groups innermost first, then the whole message).
fn resolve<'m, 'a>(scope: &Scope<'m, 'a>, r: &Ref) -> Result<Option<Segment<'a>>, Unknown> {
    if r.original {
        let Some(original) = scope.original else { return Err(Unknown) };
        return Ok(original.segments_by_id(&r.segment).next());
    }
    let message = &scope.placed.message;
    if let Some(own) = scope.segment.and_then(|i| message.segment(i)).filter(|s| s.id() == r.segment) {
        return Ok(Some(own));
    }
    let found = std::iter::once(scope.group)
        .chain(scope.ancestors.iter().rev().copied())
        .find_map(|g| first_in_group(message, g, &r.segment))
        .or_else(|| message.segments_by_id(&r.segment).next());
    Ok(found)
}

/// The repetitions a path reads, as `(index, field)`: the explicit `[r]`, else the current
/// repetition of a `SEG-f[*]` context when the path is into that very field, else the first;
/// with `any`, every repetition.
fn repetition_indexes(scope: &Scope<'_, '_>, seg: &Segment<'_>, field: &Field<'_>, r: &Ref, any: bool) -> Vec<usize> {
    if let Some(i) = r.repetition {
        return vec![usize::from(i)];
    }
    if any {
        let n = if field.is_empty() { 0 } else { field.repetition_count() };
        // An empty field still has one (absent) value, so that `ANY(P) != 'x'` agrees with
        // `P != 'x'` when P is absent.
        return if n == 0 { vec![1] } else { (1..=n).collect() };
    }
    match scope.repetition {
        Some((s, f, rep)) if !r.original && s == seg.index() && f == r.field => vec![rep],
        _ => vec![1],
    }
}

/// The value of one repetition of a path, `None` when absent or empty.
fn element(field: &Field<'_>, rep: usize, r: &Ref, delimiters: Delimiters) -> Option<String> {
    let mut part = Part::Repetition(field.repetition(rep)?);
    for n in [r.component, r.subcomponent].into_iter().flatten() {
        part = part.child(usize::from(n))?;
    }
    let s = encode(&part, delimiters);
    (!s.is_empty()).then_some(s)
}

/// The comparison string of a part: decoded text for a leaf; for a part with children, the
/// decoded children joined by the message's separators, trailing empty children dropped.
fn encode(part: &Part<'_>, d: Delimiters) -> String {
    fn join(parts: Vec<String>, sep: char) -> String {
        let keep = parts.iter().rposition(|p| !p.is_empty()).map_or(0, |i| i + 1);
        parts.into_iter().take(keep).collect::<Vec<_>>().join(&sep.to_string())
    }
    let sub = |c: &crate::er7::Component<'_>| -> String {
        match d.subcomponent {
            Some(sep) if c.subcomponent_count() > 1 => {
                join(c.subcomponents().map(|s| s.text().into_owned()).collect(), char::from(sep))
            }
            _ => c.text().into_owned(),
        }
    };
    match part {
        Part::Subcomponent(s) => s.text().into_owned(),
        Part::Component(c) => sub(c),
        Part::Repetition(r) if r.component_count() > 1 => join(r.components().map(|c| sub(&c)).collect(), char::from(d.component)),
        Part::Repetition(r) => r.components().next().map(|c| sub(&c)).unwrap_or_default(),
    }
}

fn field_of<'a>(seg: &Segment<'a>, r: &Ref) -> Field<'a> {
    seg.field(usize::from(r.field))
}

fn values(scope: &Scope<'_, '_>, o: &Operand) -> Result<Values, Unknown> {
    let (r, any) = match o {
        Operand::Ref(r) => (r, false),
        Operand::Any(r) => (r, true),
    };
    let Some(seg) = resolve(scope, r)? else { return Ok(vec![None]) };
    let field = field_of(&seg, r);
    let d = seg.delimiters();
    Ok(repetition_indexes(scope, &seg, &field, r, any).into_iter().map(|i| element(&field, i, r, d)).collect())
}

/// The value a path reads in `scope` (decoded, as comparisons see it): `None` when absent or
/// when it reads the acknowledged message and none was given. For messages that name values.
pub fn value_of(scope: &Scope<'_, '_>, r: &Ref) -> Option<String> {
    value(scope, r).ok().flatten()
}

fn value(scope: &Scope<'_, '_>, r: &Ref) -> Result<Option<String>, Unknown> {
    Ok(values(scope, &Operand::Ref(r.clone()))?.into_iter().next().flatten())
}

/// `count(SEG)`: segments of that id anywhere in the context group occurrence.
/// `count(SEG-f)`: repetitions of the field (0 when empty); with a component or an explicit
/// repetition, the repetitions in which that element is present.
fn count(scope: &Scope<'_, '_>, target: &CountTarget) -> Result<u64, Unknown> {
    match target {
        CountTarget::Segment(id) => {
            let mut all = Vec::new();
            scope.group.all_segments(&mut all);
            let message = &scope.placed.message;
            Ok(all.into_iter().filter_map(|i| message.segment(i)).filter(|s| s.id() == id).count() as u64)
        }
        CountTarget::Ref(r) => {
            let Some(seg) = resolve(scope, r)? else { return Ok(0) };
            let field = field_of(&seg, r);
            if r.repetition.is_none() && r.component.is_none() {
                return Ok(if field.is_empty() { 0 } else { field.repetition_count() as u64 });
            }
            let d = seg.delimiters();
            let reps = match r.repetition {
                Some(i) => vec![usize::from(i)],
                None => (1..=field.repetition_count()).collect(),
            };
            Ok(reps.into_iter().filter(|&i| element(&field, i, r, d).is_some()).count() as u64)
        }
    }
}
