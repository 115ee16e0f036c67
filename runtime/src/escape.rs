//! HL7 escape sequences (v2.5.1 chapter 2.7).
//!
//! The parser validates every escape sequence once, during `Message::parse`, so that
//! strict-mode errors carry a full location and decoding on access can be infallible.
//! Decoding works on bytes *before* character-set conversion because `\Xhh\` denotes
//! bytes in the message's character set, not code points.
//!
//! Formatting commands (`\.br\`, `\H\`, `\Cxxyy\`…) are kept verbatim in decoded text:
//! they describe presentation, and a consumer that renders formatted text (FT) needs
//! them, while dropping them would lose information on re-encoding. [`encode_text`]
//! recognises them and writes them back untouched, so decode → encode is the identity
//! on them. The price is that a literal `\H\` written as `\E\H\E\` decodes to the same
//! text as the command; HL7 offers no way to distinguish the two once decoded.
//!
//! A malformed sequence is kept raw when decoding (lenient mode): the escape character
//! is emitted as-is and scanning resumes right after it, which makes UNC paths such as
//! `\\server\share` come out unchanged.

use std::borrow::Cow;

use memchr::memchr;

use crate::charset::{self, Charset};
use crate::er7::Delimiters;
use crate::error::EncodeError;

/// What a well-formed escape sequence stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Escape {
    /// `\F\ \S\ \T\ \R\ \E\`: one delimiter byte.
    Delimiter(u8),
    /// `\Xhh…\`: bytes given in hex between index 2 and the closing escape.
    Hex,
    /// A formatting command, kept verbatim.
    Format,
}

/// A malformed escape sequence: `end` is where its text stops (for error messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Malformed {
    pub end: usize,
    pub reason: &'static str,
}

/// Parses the sequence whose escape character is at `p`; returns its meaning and the
/// index just past its closing escape character.
///
/// The closing character is searched only up to the next delimiter, CR or LF: an escape
/// sequence never spans elements, and stopping there keeps a stray `\` from swallowing
/// the rest of the segment.
pub(crate) fn parse_escape(
    bytes: &[u8],
    p: usize,
    d: &Delimiters,
    charset: Charset,
) -> Result<(Escape, usize), Malformed> {
    parse_escape_with(bytes, p, d, *d == Delimiters::STANDARD, charset)
}

/// [`parse_escape`] for a caller that reads many sequences with the same delimiters and has
/// settled once whether they are the standard ones (`standard`): comparing the five
/// delimiters cost a third of a sequence's parse, paid again for every `\.br\` of a report.
#[inline(always)]
pub(crate) fn parse_escape_with(
    bytes: &[u8],
    p: usize,
    d: &Delimiters,
    standard: bool,
    charset: Charset,
) -> Result<(Escape, usize), Malformed> {
    let Some(esc) = d.escape else {
        return Err(Malformed { end: p.saturating_add(1), reason: "no escape character defined" });
    };
    let start = p + 1;
    let rest = bytes.get(start..).unwrap_or(&[]);
    // Most sequences are one letter closed at once (`\F\ \S\ \R\ \E\ \T\ \H\ \N\`) or `\.br\`,
    // the line break of every formatted text: settled without the search below, to the same
    // answer.
    // Only with the standard delimiters `|^~\&`: delimiters may be any bytes, and a letter or
    // dot that is one ends the search below (one comparison of the five, not one per letter).
    if let [b'.', b'b', b'r', close, ..] = *rest {
        if close == esc && standard {
            return Ok((Escape::Format, start + 4));
        }
    }
    if let [letter, close, ..] = *rest {
        if close == esc && standard {
            let kind = match letter {
                b'F' => Some(Escape::Delimiter(d.field)),
                b'S' => Some(Escape::Delimiter(d.component)),
                b'R' => Some(Escape::Delimiter(d.repetition)),
                b'E' => Some(Escape::Delimiter(esc)),
                b'T' => d.subcomponent.map(Escape::Delimiter),
                b'H' | b'N' => Some(Escape::Format),
                _ => None,
            };
            if let Some(kind) = kind {
                return Ok((kind, start + 2));
            }
        }
    }
    parse_searched(bytes, p, d, charset)
}

/// [`parse_escape`] by searching the closing escape character.
fn parse_searched(bytes: &[u8], p: usize, d: &Delimiters, charset: Charset) -> Result<(Escape, usize), Malformed> {
    let Some(esc) = d.escape else {
        return Err(Malformed { end: p.saturating_add(1), reason: "no escape character defined" });
    };
    let start = p + 1;
    let rest = bytes.get(start..).unwrap_or(&[]);
    let mut close = None;
    for (i, &b) in rest.iter().enumerate() {
        if b == esc {
            close = Some(start + i);
            break;
        }
        if d.is_separator(b) || b == b'\r' || b == b'\n' {
            return Err(Malformed { end: start + i, reason: "unterminated escape sequence" });
        }
    }
    let Some(q) = close else {
        return Err(Malformed { end: bytes.len(), reason: "unterminated escape sequence" });
    };
    let end = q + 1;
    let content = bytes.get(start..q).unwrap_or(&[]);
    let bad = |reason| Err(Malformed { end, reason });
    let kind = match content {
        [] => return bad("empty escape sequence"),
        [b'F'] => Escape::Delimiter(d.field),
        [b'S'] => Escape::Delimiter(d.component),
        [b'R'] => Escape::Delimiter(d.repetition),
        [b'E'] => Escape::Delimiter(esc),
        [b'T'] => match d.subcomponent {
            Some(s) => Escape::Delimiter(s),
            None => return bad("\\T\\ used but no subcomponent separator is defined"),
        },
        [b'H'] | [b'N'] => Escape::Format,
        [b'X', hex @ ..] => {
            if hex.is_empty() {
                return bad("empty hexadecimal escape");
            }
            if hex.len() % 2 != 0 {
                return bad("odd number of hexadecimal digits");
            }
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return bad("non-hexadecimal digit");
            }
            let decoded = decode_hex(hex);
            if charset.first_invalid(&decoded).is_some() {
                return bad("hexadecimal bytes are not valid in the message character set");
            }
            Escape::Hex
        }
        [b'C', rest @ ..] if rest.len() == 4 && rest.iter().all(u8::is_ascii_hexdigit) => Escape::Format,
        [b'M', rest @ ..]
            if (rest.len() == 4 || rest.len() == 6) && rest.iter().all(u8::is_ascii_hexdigit) =>
        {
            Escape::Format
        }
        [b'Z', rest @ ..] if !rest.is_empty() && rest.iter().all(u8::is_ascii_graphic) => Escape::Format,
        [b'.', cmd @ ..] if is_formatting_command(cmd) => Escape::Format,
        _ => return bad("unknown escape sequence"),
    };
    Ok((kind, end))
}

/// `.br .ce .fi .nf`, `.sp[n] .sk[n]`, `.in±n .ti±n`; a blank before the number is
/// tolerated because the standard prints the commands as `.sp <number>`.
fn is_formatting_command(cmd: &[u8]) -> bool {
    let (name, arg) = (cmd.get(..2).unwrap_or(cmd), cmd.get(2..).unwrap_or(&[]));
    let arg = arg.strip_prefix(b" ").unwrap_or(arg);
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let signed = |s: &[u8]| {
        let s = s.strip_prefix(b"+").or_else(|| s.strip_prefix(b"-")).unwrap_or(s);
        digits(s)
    };
    match name {
        b"br" | b"ce" | b"fi" | b"nf" => cmd.len() == 2,
        b"sp" | b"sk" => cmd.len() == 2 || digits(arg),
        b"in" | b"ti" => signed(arg),
        _ => false,
    }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

fn decode_hex(hex: &[u8]) -> Vec<u8> {
    hex.chunks_exact(2).map(|pair| match pair {
        [hi, lo] => hex_value(*hi) << 4 | hex_value(*lo),
        _ => 0,
    }).collect()
}

/// The escape character, searched for again and again in one text: a report's line breaks
/// (`\.br\`) come every few dozen bytes. `memchr` chooses its routine and spreads the byte over
/// a vector on every call, a third of what a call costs on such gaps; here that is done once
/// per text.
pub(crate) struct Finder {
    byte: u8,
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
}

impl Finder {
    pub(crate) fn new(byte: u8) -> Finder {
        Finder {
            byte,
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::One::new(byte),
        }
    }

    /// The first occurrence of the byte in `hay`.
    #[inline]
    pub(crate) fn find(&self, hay: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(one) = &self.avx2 {
            return one.find(hay);
        }
        memchr(self.byte, hay)
    }
}

/// Replaces escape sequences by the bytes they stand for; malformed ones stay raw.
pub(crate) fn unescape(raw: &[u8], d: &Delimiters, charset: Charset) -> Vec<u8> {
    let Some(esc) = d.escape else {
        return raw.to_vec();
    };
    let standard = *d == Delimiters::STANDARD;
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    let finder = Finder::new(esc);
    while let Some(off) = raw.get(i..).and_then(|rest| finder.find(rest)) {
        let p = i + off;
        out.extend_from_slice(raw.get(i..p).unwrap_or(&[]));
        match parse_escape_with(raw, p, d, standard, charset) {
            Ok((Escape::Delimiter(b), end)) => {
                out.push(b);
                i = end;
            }
            Ok((Escape::Hex, end)) => {
                out.extend(decode_hex(raw.get(p + 2..end - 1).unwrap_or(&[])));
                i = end;
            }
            Ok((Escape::Format, end)) => {
                out.extend_from_slice(raw.get(p..end).unwrap_or(&[]));
                i = end;
            }
            Err(_) => {
                out.push(esc);
                i = p + 1;
            }
        }
    }
    out.extend_from_slice(raw.get(i..).unwrap_or(&[]));
    out
}

/// [`unescape`] of a value that is a slice of a message's validated UTF-8 text, straight to
/// text: the runs between escapes are copied as the text they already are, with no second
/// validation of the whole. `None` outside UTF-8, when a hexadecimal escape is present (its
/// bytes may join the bytes around them into one character, which [`decode`] handles) or a
/// delimiter is not ASCII.
///
/// A formatting command (`\.br\`, `\H\`) and a malformed sequence decode to themselves, so
/// they stay inside the run being copied: only a delimiter escape (`\E\`, `\F\` …) cuts it.
/// A report whose only escapes are its line breaks is borrowed, not copied.
pub(crate) fn unescape_text<'t>(text: &'t str, d: &Delimiters, charset: Charset) -> Option<Cow<'t, str>> {
    if charset != Charset::Utf8 {
        return None;
    }
    let esc = d.escape.filter(u8::is_ascii)?;
    let raw = text.as_bytes();
    let standard = *d == Delimiters::STANDARD;
    let mut out: Option<String> = None;
    // Where the text not yet copied to `out` starts.
    let mut run = 0;
    let mut i = 0;
    let finder = Finder::new(esc);
    while let Some(off) = raw.get(i..).and_then(|rest| finder.find(rest)) {
        let p = i + off;
        match parse_escape_with(raw, p, d, standard, charset) {
            Ok((Escape::Delimiter(b), end)) if b.is_ascii() => {
                let out = out.get_or_insert_with(|| String::with_capacity(raw.len()));
                out.push_str(text.get(run..p)?);
                out.push(char::from(b));
                run = end;
                i = end;
            }
            Ok((Escape::Format, end)) => i = end,
            Ok(_) => return None,
            // Kept raw: the escape character stands for itself.
            Err(_) => i = p + 1,
        }
    }
    Some(match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(text.get(run..)?);
            Cow::Owned(out)
        }
    })
}

/// Decodes an element's raw bytes to text: escapes first, then the character set.
/// Borrows when there is nothing to convert.
pub fn decode<'a>(raw: &'a [u8], d: &Delimiters, charset: Charset) -> Cow<'a, str> {
    match d.escape {
        Some(esc) if memchr(esc, raw).is_some() => {
            Cow::Owned(charset.decode_lossy_owned(unescape(raw, d, charset)))
        }
        _ => charset.decode_lossy(raw),
    }
}

/// Encodes text for one element: delimiters become `\F\ \S\ \T\ \R\ \E\`, control
/// characters (CR, LF…) become `\Xhh\` so they cannot break the segment structure,
/// formatting commands are written back verbatim, and everything else is converted to
/// the character set — an unrepresentable character is an error, never a substitute.
pub fn encode_text(text: &str, d: &Delimiters, charset: Charset) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(text.len() + 8);
    encode_text_into(text, d, charset, &mut out)?;
    Ok(out)
}

/// The bytes [`encode_text_into`] must look at for given delimiters and character set:
/// delimiters, control characters and, outside UTF-8, every non-ASCII byte. Built once per
/// message by writers that encode many values.
#[derive(Clone, Debug)]
pub struct Special {
    table: [bool; 256],
    /// The delimiters (an absent one repeats the field separator), for the word-at-a-time scan.
    delimiters: [u8; 5],
    /// Whether non-ASCII bytes are special (the character set is not UTF-8).
    high: bool,
    /// Each delimiter repeated over sixteen lanes, for the vector scan: loaded, not broadcast
    /// on every call.
    #[cfg(target_arch = "x86_64")]
    lanes: [[u8; 16]; 5],
    /// Whether the delimiters are the standard `|^~\&`: the vector scan then finds four of
    /// them with one comparison (see `simd::specials`), and the common formatting commands
    /// are known without parsing them.
    standard: bool,
}

/// [`Special`] for the standard delimiters in a UTF-8 message and in any other, built at
/// compile time: the builders' writer takes one per message instead of building the table.
pub(crate) static STANDARD_UTF8: Special = Special::standard(true);
pub(crate) static STANDARD_NOT_UTF8: Special = Special::standard(false);

impl Special {
    /// [`Special::new`] for [`Delimiters::STANDARD`], as a constant.
    // A constant function cannot call `get_mut`; the indexes are below the table's 256.
    #[allow(clippy::indexing_slicing)]
    const fn standard(utf8: bool) -> Self {
        let delimiters = [b'|', b'^', b'~', b'&', b'\\'];
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            table[b] = b < 0x20 || (b >= 0x80 && !utf8);
            b += 1;
        }
        let mut i = 0;
        while i < delimiters.len() {
            table[delimiters[i] as usize] = true;
            i += 1;
        }
        Special {
            table,
            delimiters,
            high: !utf8,
            #[cfg(target_arch = "x86_64")]
            lanes: [[b'|'; 16], [b'^'; 16], [b'~'; 16], [b'&'; 16], [b'\\'; 16]],
            standard: true,
        }
    }

    pub fn new(d: &Delimiters, charset: Charset) -> Self {
        let mut table = [false; 256];
        table.iter_mut().take(0x20).for_each(|s| *s = true);
        // A Rust string is valid UTF-8 already: in a UTF-8 message its non-ASCII bytes are
        // copied as they are.
        if charset != Charset::Utf8 {
            table.iter_mut().skip(0x80).for_each(|s| *s = true);
        }
        let delimiters = [d.field, d.component, d.repetition, d.subcomponent.unwrap_or(d.field), d.escape.unwrap_or(d.field)];
        for b in delimiters {
            if let Some(s) = table.get_mut(usize::from(b)) {
                *s = true;
            }
        }
        Special {
            table,
            delimiters,
            high: charset != Charset::Utf8,
            #[cfg(target_arch = "x86_64")]
            lanes: delimiters.map(|b| [b; 16]),
            standard: *d == Delimiters::STANDARD,
        }
    }

    /// The length of the leading run of `bytes` that needs nothing: eight bytes at a time
    /// while no byte of the word can be special, then byte by byte. Most text is such a run,
    /// so this is the encoder's inner loop.
    fn plain_run(&self, bytes: &[u8]) -> usize {
        #[cfg(target_arch = "x86_64")]
        {
            // Most values are a few bytes long: a table look-up per byte costs less than
            // copying them into a padded block.
            if bytes.len() < 16 {
                return self.plain_run_table(bytes);
            }
            simd::plain_run(self, bytes)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self.plain_run_words(bytes)
        }
    }

    /// Whether `bytes` need nothing: copied as they are.
    #[inline]
    pub fn is_plain(&self, bytes: &[u8]) -> bool {
        #[cfg(target_arch = "x86_64")]
        if bytes.len() < 16 {
            // One vector of the value's own bytes, read as overlapping words (no padding):
            // the same cost at every length, where the table costs a few instructions a byte.
            return simd::short_is_plain(self, bytes);
        }
        if bytes.len() < 16 {
            // No early exit: a short value is looked up whole, without a branch per byte.
            !bytes.iter().fold(false, |special, &b| special | self.table.get(usize::from(b)).copied().unwrap_or(true))
        } else {
            self.plain_run(bytes) == bytes.len()
        }
    }

    /// Appends `bytes` to `out` and says whether they need nothing; when they do, `out` is
    /// left as it was. The writer's path for a value: a short value is checked where it has
    /// just been copied, as the last lanes of the output's last sixteen bytes, one load
    /// instead of gathering the value's own bytes.
    #[inline]
    pub fn append_if_plain(&self, bytes: &[u8], out: &mut Vec<u8>) -> bool {
        let start = out.len();
        out.extend_from_slice(bytes);
        #[cfg(target_arch = "x86_64")]
        {
            let (len, end) = (bytes.len(), out.len());
            let plain = if len < 16 {
                end.checked_sub(16).and_then(|at| out.get(at..)).map(|tail| simd::tail_is_plain(self, tail, len))
            } else if len <= 32 {
                // Two blocks of the value, overlapping unless it is 32 bytes long.
                let (head, tail) = (out.get(start..start + 16), out.get(end - 16..));
                head.zip(tail).map(|(head, tail)| simd::tail_is_plain(self, head, 16) && simd::tail_is_plain(self, tail, 16))
            } else {
                None
            };
            match plain {
                Some(true) => return true,
                Some(false) => {
                    out.truncate(start);
                    return false;
                }
                None => {}
            }
        }
        if self.is_plain(bytes) {
            return true;
        }
        out.truncate(start);
        false
    }

    /// [`Special::plain_run`] one byte at a time.
    fn plain_run_table(&self, bytes: &[u8]) -> usize {
        bytes.iter().position(|&b| self.table.get(usize::from(b)).copied().unwrap_or(true)).unwrap_or(bytes.len())
    }

    /// [`Special::plain_run`] eight bytes at a time (the portable path, and the reference
    /// the vector path is tested against).
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    fn plain_run_words(&self, bytes: &[u8]) -> usize {
        const ONES: u64 = u64::from_le_bytes([0x01; 8]);
        const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
        // Non-zero when some byte of `x` is below `n` (n <= 128): exact as to whether one is.
        let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
        let mut start = 0;
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let x = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or([0; 8]));
            let mut hit = below(x, 0x20);
            if self.high {
                hit |= x & HIGH;
            }
            for d in self.delimiters {
                hit |= below(x ^ (ONES * u64::from(d)), 1);
            }
            if hit != 0 {
                break;
            }
            start += 8;
        }
        start + self.plain_run_table(bytes.get(start..).unwrap_or(&[]))
    }
}

/// Sixteen bytes at a time with SSE2, which every x86-64 processor has, for values of at
/// least sixteen bytes.
#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::{__m128i, _mm_and_si128, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x};

    use crate::sse2::{load, mask};

    use super::Special;

    #[allow(unsafe_code)] // calls the SSE2 function, see SAFETY
    pub(super) fn plain_run(special: &Special, bytes: &[u8]) -> usize {
        // SAFETY: SSE2 is part of the x86-64 baseline: every processor this code can run on
        // has it (the compiler enables it for the target), which is all `run` asks.
        unsafe { run(special, bytes) }
    }

    #[allow(unsafe_code)] // calls the SSE2 function, see SAFETY
    #[inline]
    pub(super) fn short_is_plain(special: &Special, bytes: &[u8]) -> bool {
        // SAFETY: as for `plain_run`: SSE2 is part of the x86-64 baseline.
        unsafe { short(special, bytes) }
    }

    #[allow(unsafe_code)] // calls the SSE2 function, see SAFETY
    #[inline]
    pub(super) fn tail_is_plain(special: &Special, block: &[u8], len: usize) -> bool {
        // SAFETY: as for `plain_run`: SSE2 is part of the x86-64 baseline.
        unsafe { tail(special, block, len) }
    }

    /// Whether the last `len` (at most sixteen) bytes of the sixteen-byte `block` are plain:
    /// the lanes before them shifted out of the mask.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn tail(special: &Special, block: &[u8], len: usize) -> bool {
        specials(special, load(block)) >> (16 - len.min(16)) == 0
    }

    /// One bit per special lane of `v`: the comparisons joined in the vector, one mask.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn specials(special: &Special, v: __m128i) -> u32 {
        // Signed comparison: below 0x20 also takes every byte from 0x80, which are
        // special unless the message is UTF-8; there, only the lanes whose high bit is clear.
        let mut m = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
        if !special.high {
            m = _mm_andnot_si128(v, m);
        }
        if special.standard {
            // `\ ^ | ~` are 0x5C with none, one or both of the bits 0x02 and 0x20 set: the
            // bytes that read 0x5C once those two bits are cleared, and no other. Then `&`.
            let four = _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8(!0x22)), _mm_set1_epi8(0x5C));
            return mask(_mm_or_si128(m, _mm_or_si128(four, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x26)))));
        }
        for n in &special.lanes {
            m = _mm_or_si128(m, _mm_cmpeq_epi8(v, load(n)));
        }
        mask(m)
    }

    /// The first and the last word of 8, 4, 2 or 1 bytes of a value of 1 to 15 bytes, and
    /// that width; (0, 0, 0) for an empty one.
    #[inline(always)]
    fn ends(bytes: &[u8]) -> (u64, u64, usize) {
        let n = bytes.len();
        let word = |at: usize, len: usize| -> u64 {
            let mut w = [0u8; 8];
            if let (Some(dst), Some(src)) = (w.get_mut(..len), bytes.get(at..at + len)) {
                dst.copy_from_slice(src);
            }
            u64::from_le_bytes(w)
        };
        match n {
            0 => (0, 0, 0),
            8.. => (word(0, 8), word(n - 8, 8), 8),
            4.. => (word(0, 4), word(n - 4, 4), 4),
            2.. => (word(0, 2), word(n - 2, 2), 2),
            _ => (word(0, 1), word(0, 1), 1),
        }
    }

    /// Whether a value of fewer than sixteen bytes is plain: its bytes gathered into one vector
    /// by two overlapping reads (its first and its last word), so every lane holds a byte of
    /// the value, some twice or more, which a yes-or-no question does not mind.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn short(special: &Special, bytes: &[u8]) -> bool {
        let (first, last, width) = ends(bytes);
        if width == 0 {
            return true;
        }
        specials(special, gather(first, last, width)) == 0
    }

    /// The vector of [`short`]: the two words side by side, the narrow ones repeated.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn gather(first: u64, last: u64, width: usize) -> __m128i {
        let (lo, hi) = match width {
            8 => (first, last),
            4 => {
                let x = first | last << 32;
                (x, x)
            }
            2 => {
                let x = (first | last << 16) * 0x0000_0001_0000_0001;
                (x, x)
            }
            _ => {
                let x = first * 0x0101_0101_0101_0101;
                (x, x)
            }
        };
        // `as i64`: the intrinsic takes signed words; only the bit pattern matters.
        _mm_set_epi64x(hi as i64, lo as i64)
    }

    #[target_feature(enable = "sse2")]
    fn run(special: &Special, bytes: &[u8]) -> usize {
        if bytes.len() < 16 {
            return special.plain_run_table(bytes);
        }
        let specials = |v: __m128i| specials(special, v);
        let mut chunks = bytes.chunks_exact(16);
        let mut at = 0;
        for chunk in &mut chunks {
            let m = specials(load(chunk));
            if m != 0 {
                return at + m.trailing_zeros() as usize;
            }
            at += 16;
        }
        // The tail: the last sixteen bytes again (callers send at least sixteen), of which
        // the lanes already seen are shifted out.
        let tail = chunks.remainder().len();
        if tail == 0 {
            return at;
        }
        let last = bytes.get(bytes.len().saturating_sub(16)..).unwrap_or(bytes);
        let m = specials(load(last)) >> (16 - tail);
        at + if m != 0 { m.trailing_zeros() as usize } else { tail }
    }
}

/// [`encode_text`] appended to `out`. Runs of bytes that need nothing (most of any text) are
/// copied whole; only delimiters, control characters and, outside UTF-8, non-ASCII characters
/// are looked at one by one. On error `out` may hold part of the text.
pub fn encode_text_into(text: &str, d: &Delimiters, charset: Charset, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    encode_text_with(text, d, charset, &Special::new(d, charset), out)
}

/// [`encode_text_into`] with the table of special bytes built beforehand.
pub fn encode_text_with(text: &str, d: &Delimiters, charset: Charset, special: &Special, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let bytes = text.as_bytes();
    // Error positions are in characters; counted only when there is an error.
    let chars_before = |i: usize| text.get(..i).map_or(0, |s| s.chars().count());
    let mut i = 0;
    loop {
        let rest = bytes.get(i..).unwrap_or(&[]);
        let run = special.plain_run(rest);
        out.extend_from_slice(rest.get(..run).unwrap_or(rest));
        i += run;
        let Some(&b) = bytes.get(i) else { return Ok(()) };
        if b >= 0x80 {
            let ch = text.get(i..).and_then(|s| s.chars().next()).unwrap_or('\u{FFFD}');
            // A C1 control (U+0080–U+009F) in an ISO 8859 message is escaped like the C0 ones:
            // written raw, the message would read as a mislabelled Windows-1252 file.
            if matches!(charset, Charset::Latin1 | Charset::Latin9) && matches!(ch, '\u{80}'..='\u{9F}') {
                let esc = d.escape.ok_or(EncodeError::Unescapable { ch, index: chars_before(i) })?;
                out.push(esc);
                out.push(b'X');
                out.extend_from_slice(&hex_pair(u32::from(ch) as u8));
                out.push(esc);
                i += ch.len_utf8();
                continue;
            }
            if !charset.encode_char(ch, out) {
                return Err(charset::unrepresentable(ch, chars_before(i), charset).into());
            }
            i += ch.len_utf8();
            continue;
        }
        // Only a formatting command is written back as it is, and only these letters start
        // one: other escape characters (a UNC path's `\\server\share`) are escaped without
        // looking for a closing one, which can be far (up to the element's end).
        if Some(b) == d.escape && matches!(bytes.get(i + 1), Some(b'H' | b'N' | b'.' | b'C' | b'M' | b'Z')) {
            // The formatted text's own commands, `\.br\`, `\H\` and `\N\`, known at once with the
            // standard delimiters (as `parse_escape` knows them, without the call).
            let common = match bytes.get(i + 1..).unwrap_or(&[]) {
                [b'.', b'b', b'r', close, ..] if *close == b && special.standard => Some(i + 5),
                [b'H' | b'N', close, ..] if *close == b && special.standard => Some(i + 3),
                _ => None,
            };
            if let Some(end) = common {
                out.extend_from_slice(bytes.get(i..end).unwrap_or(&[]));
                i = end;
                continue;
            }
            if let Ok((Escape::Format, end)) = parse_escape(bytes, i, d, charset) {
                // Formatting commands (`\.br\`, `\H\` …) are written back as they are.
                out.extend_from_slice(bytes.get(i..end).unwrap_or(&[]));
                i = end;
                continue;
            }
        }
        let letter = if b == d.field {
            Some(b'F')
        } else if b == d.component {
            Some(b'S')
        } else if b == d.repetition {
            Some(b'R')
        } else if Some(b) == d.subcomponent {
            Some(b'T')
        } else if Some(b) == d.escape {
            Some(b'E')
        } else {
            None
        };
        let unescapable = || EncodeError::Unescapable { ch: char::from(b), index: chars_before(i) };
        if let Some(letter) = letter {
            let esc = d.escape.ok_or_else(unescapable)?;
            out.extend_from_slice(&[esc, letter, esc]);
            i += 1;
            continue;
        }
        if b < 0x20 && b != b'\t' {
            let esc = d.escape.ok_or_else(unescapable)?;
            out.push(esc);
            out.push(b'X');
            while let Some(&c) = bytes.get(i) {
                if c >= 0x20 || c == b'\t' {
                    break;
                }
                out.extend_from_slice(&hex_pair(c));
                i += 1;
            }
            out.push(esc);
            continue;
        }
        // A tab: kept as it is.
        out.push(b);
        i += 1;
    }
}

// A nibble is below 16 by construction and HEX has 16 entries: these indexes cannot fail,
// and this runs for every control character written.
#[allow(clippy::indexing_slicing)]
fn hex_pair(b: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0F)]]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The finder made once per text finds what `memchr` finds, at every length around the
    /// vector widths and every position of the byte (and when it is absent).
    #[test]
    fn the_finder_finds_what_memchr_finds() {
        let finder = Finder::new(b'\\');
        for len in 0..140 {
            let mut hay = vec![b'a'; len];
            assert_eq!(finder.find(&hay), None, "{len}");
            for at in 0..len {
                hay[at] = b'\\';
                assert_eq!(finder.find(&hay), memchr(b'\\', &hay), "{len} {at}");
                assert_eq!(finder.find(&hay), Some(at), "{len} {at}");
                // A second occurrence further on: the first is still the one found.
                if let Some(b) = hay.get_mut(at + 1 + len / 3) {
                    *b = b'\\';
                }
                assert_eq!(finder.find(&hay), Some(at), "{len} {at}");
                hay.fill(b'a');
            }
        }
    }

    /// The run a byte-by-byte scan of the table finds.
    fn reference(special: &Special, bytes: &[u8]) -> usize {
        bytes.iter().position(|&b| special.table.get(usize::from(b)).copied().unwrap_or(true)).unwrap_or(bytes.len())
    }

    #[test]
    fn plain_runs_agree_with_the_table_at_every_length_and_position() {
        let d = Delimiters { field: b'|', component: b'^', repetition: b'~', escape: Some(b'\\'), subcomponent: Some(b'&') };
        let odd = Delimiters { escape: None, subcomponent: None, ..d };
        let alphabet: &[u8] = b"|^~\\&\t\r\x00\x1f \x7f\x80\xc3\xffaZ9";
        for (delims, charset) in [(d, Charset::Utf8), (d, Charset::Latin1), (odd, Charset::Ascii)] {
            let special = Special::new(&delims, charset);
            for len in 0usize..70 {
                for &b in alphabet {
                    for pos in [0, len / 2, len.saturating_sub(1)] {
                        let mut text = vec![b'x'; len];
                        if let Some(x) = text.get_mut(pos) {
                            *x = b;
                        }
                        let want = reference(&special, &text);
                        assert_eq!(special.plain_run(&text), want, "{text:?} {charset:?}");
                        #[cfg(target_arch = "x86_64")]
                        assert_eq!(simd::plain_run(&special, &text), want, "{text:?} {charset:?}");
                        assert_eq!(special.plain_run_words(&text), want, "{text:?} {charset:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn text_unescape_agrees_with_decode() {
        let d = Delimiters { field: b'|', component: b'^', repetition: b'~', escape: Some(b'\\'), subcomponent: Some(b'&') };
        let no_sub = Delimiters { subcomponent: None, ..d };
        // Delimiters that are letters of the sequences settled without a search.
        let dot = Delimiters { component: b'.', ..d };
        let letters = Delimiters { field: b'F', component: b'b', repetition: b'H', ..d };
        let cases = [
            "", "plain", "é", r"\F\", r"a\S\b\T\c\R\d\E\e", r"\H\gras\N\ \.br\ \.sp 2\ \.in-3\ \Cxxyy\ \C1234\ \M123456\ \Zabc\",
            r"\\pacs\share", r"\", r"a\", r"\\", r"\Q\", r"\X\", r"\XC3A9\", r"\XC3\é", r"\X41\", r"\F", r"\.zz\", r"é\E\è\S\",
            r"\F\\S\\T\\R\\E\\H\\N\", r"\.br\\.br", r"\.br", r"\.b\", r"\.brr\", r"\.br|\",
        ];
        for delims in [d, no_sub, dot, letters] {
            for charset in [Charset::Utf8, Charset::Latin1] {
                for case in cases {
                    let want = decode(case.as_bytes(), &delims, charset);
                    for i in 0..case.len() {
                        if case.as_bytes().get(i) == Some(&b'\\') {
                            let (fast, searched) = (parse_escape(case.as_bytes(), i, &delims, charset), parse_searched(case.as_bytes(), i, &delims, charset));
                            assert_eq!(fast, searched, "{case:?} at {i}");
                        }
                    }
                    match unescape_text(case, &delims, charset) {
                        Some(got) => {
                            assert_eq!(got, want, "{case:?}");
                            // Text that decodes to itself (formatting commands, stray escape
                            // characters) is lent, not copied: a delimiter escape always
                            // shortens it, so this is exactly when there is nothing to copy.
                            assert_eq!(matches!(got, Cow::Borrowed(_)), got == *case, "{case:?} borrowed or copied");
                        }
                        None => assert!(case.contains(r"\X") || charset != Charset::Utf8, "{case:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn values_are_plain_as_the_table_says_at_every_position() {
        let standard = Delimiters { field: b'|', component: b'^', repetition: b'~', escape: Some(b'\\'), subcomponent: Some(b'&') };
        let other = Delimiters { field: b'#', component: b'*', repetition: b'!', escape: Some(b'$'), subcomponent: Some(b'%') };
        // Every byte: the standard delimiters are found by a comparison under a mask, which
        // must take those five and no neighbour.
        let alphabet: Vec<u8> = (0..=255).collect();
        for (d, charset) in [(standard, Charset::Utf8), (standard, Charset::Latin1), (other, Charset::Utf8)] {
            let special = Special::new(&d, charset);
            for len in 0usize..40 {
                for &b in &alphabet {
                    for pos in [0, len / 2, len.saturating_sub(1)] {
                        let mut text: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                        if let Some(x) = text.get_mut(pos) {
                            *x = b;
                        }
                        let plain = reference(&special, &text) == len;
                        assert_eq!(special.is_plain(&text), plain, "{text:?} {charset:?}");
                        // Written after nothing, after a little and after more than a block:
                        // the short path reads the output's last sixteen bytes when it can.
                        for before in [&b""[..], b"ab", b"MSH|^~\\&|SENDER|FAC|"] {
                            let mut out = before.to_vec();
                            assert_eq!(special.append_if_plain(&text, &mut out), plain, "{text:?} {charset:?} after {before:?}");
                            let want: Vec<u8> = if plain { [before, &text].concat() } else { before.to_vec() };
                            assert_eq!(out, want);
                        }
                    }
                }
            }
        }
    }

    /// The compile-time tables are the ones `Special::new` builds.
    #[test]
    fn standard_tables_are_the_built_ones() {
        for (built, charset) in [(&STANDARD_UTF8, Charset::Utf8), (&STANDARD_NOT_UTF8, Charset::Latin1)] {
            let want = Special::new(&Delimiters::STANDARD, charset);
            assert_eq!((built.table, built.delimiters, built.high, built.standard), (want.table, want.delimiters, want.high, want.standard));
            #[cfg(target_arch = "x86_64")]
            assert_eq!(built.lanes, want.lanes);
        }
    }
}
