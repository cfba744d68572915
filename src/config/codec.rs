//! Codecs: how each kind of parameter is parsed from arguments, formatted for
//! `CONFIG GET`, and written by `CONFIG REWRITE`.
//!
//! A codec is a small value attached to a table row (for example
//! `Num::int(0, 65535)` or `Str::new()`); it implements [`Codec<T>`] for the
//! Rust type `T` of the row's field. The generic codecs cover Redis's bool,
//! string, sds, enum and numeric configs; the "special" parameters (`save`,
//! `bind`, `dir`, ...) each have a dedicated codec. All error texts are the
//! exact strings Redis 7.0.15 reports.

use std::borrow::Cow;

use super::parse::{
    c_strtoll, c_strtoll_full, format_f64_trimmed, format_memory_for_config, parse_f64_strict,
    parse_i64_strict, parse_memory, quote_if_needed, repr, split_args,
};
use super::rewrite::RewriteState;
use super::types::{
    notify, ClientClass, ConfigEnum, ObufLimit, ReplicaOf, SaveParam, ShutdownFlags,
    DEFAULT_OBUF_LIMITS,
};
use super::Config;

/// Error text of a failed set (without any `ERR ...` decoration).
pub(crate) type SetError = Cow<'static, str>;

/// Extra validity check of a bool parameter.
pub(crate) type BoolCheck = fn(bool) -> Result<(), &'static str>;

/// Extra validity check of a string parameter.
pub(crate) type StrCheck = fn(&str) -> Result<(), &'static str>;

/// Type-erased setter of one table row: parses `args` into the field and
/// reports whether the value changed.
pub(crate) type SetFn = fn(&mut Config, &[&[u8]], &mut SetCtx) -> Result<bool, SetError>;

/// Mutable state shared by the sets performed during one load or one
/// `CONFIG SET`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SetCtx {
    /// True while a configuration file is being parsed (Redis's
    /// `reading_config_file`): the first `save` line replaces the defaults,
    /// the following ones append.
    pub reading_file: bool,
    /// Whether a `save` line was already seen during this load.
    pub save_loaded: bool,
    /// Perform process side effects (`dir` changes the working directory).
    pub side_effects: bool,
}

/// Parsing, formatting and rewriting of one parameter type.
pub(crate) trait Codec<T> {
    /// Parses `args` into a new value. `old` is the current value (used by
    /// `save`, which appends while a file is being read).
    fn parse(&self, args: &[&[u8]], old: &T, ctx: &mut SetCtx) -> Result<T, SetError>;

    /// Validation that needs the rest of the configuration.
    fn check(&self, _new: &T, _config: &Config) -> Result<(), SetError> {
        Ok(())
    }

    /// Special parameters report a change on every successful set, so their
    /// apply action always runs (Redis's special setters return 1).
    fn always_changed(&self) -> bool {
        false
    }

    /// The `CONFIG GET` representation.
    fn get(&self, value: &T) -> Vec<u8>;

    /// Emits the `CONFIG REWRITE` line(s) for the option `name`.
    fn rewrite(&self, value: &T, default: &T, name: &str, state: &mut RewriteState);
}

fn single<'a>(args: &[&'a [u8]]) -> Result<&'a [u8], SetError> {
    match args {
        [one] => Ok(one),
        _ => Err("wrong number of arguments".into()),
    }
}

/// Bytes up to the first NUL, as a (lossy) UTF-8 string: C string configs.
fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

// ---------------------------------------------------------------------------
// bool

/// `yes`/`no` parameters, with an optional validity check.
pub(crate) struct Bool(pub Option<BoolCheck>);

impl Codec<bool> for Bool {
    fn parse(&self, args: &[&[u8]], _: &bool, _: &mut SetCtx) -> Result<bool, SetError> {
        let arg = single(args)?;
        let v = if arg.eq_ignore_ascii_case(b"yes") {
            true
        } else if arg.eq_ignore_ascii_case(b"no") {
            false
        } else {
            return Err("argument must be 'yes' or 'no'".into());
        };
        if let Some(valid) = self.0 {
            valid(v)?;
        }
        Ok(v)
    }

    fn get(&self, v: &bool) -> Vec<u8> {
        yes_no(*v).into()
    }

    fn rewrite(&self, v: &bool, default: &bool, name: &str, st: &mut RewriteState) {
        st.rewrite_line(name, format!("{name} {}", yes_no(*v)), v != default);
    }
}

// ---------------------------------------------------------------------------
// strings

/// String parameters. As `String` the empty string is a value
/// (`ALLOW_EMPTY_STRING`); as `Option<String>` it means "unset"
/// (`EMPTY_STRING_IS_NULL`). Values stop at a NUL byte, like C strings.
pub(crate) struct Str(pub Option<StrCheck>);

impl Str {
    fn parse_str(&self, args: &[&[u8]]) -> Result<String, SetError> {
        let v = c_string(single(args)?);
        if let Some(valid) = self.0 {
            valid(&v)?;
        }
        Ok(v)
    }
}

impl Codec<String> for Str {
    fn parse(&self, args: &[&[u8]], _: &String, _: &mut SetCtx) -> Result<String, SetError> {
        self.parse_str(args)
    }

    fn get(&self, v: &String) -> Vec<u8> {
        v.as_bytes().to_vec()
    }

    fn rewrite(&self, v: &String, default: &String, name: &str, st: &mut RewriteState) {
        st.rewrite_line(name, format!("{name} {}", repr(v.as_bytes())), v != default);
    }
}

impl Codec<Option<String>> for Str {
    fn parse(
        &self,
        args: &[&[u8]],
        _: &Option<String>,
        _: &mut SetCtx,
    ) -> Result<Option<String>, SetError> {
        let v = self.parse_str(args)?;
        Ok((!v.is_empty()).then_some(v))
    }

    fn get(&self, v: &Option<String>) -> Vec<u8> {
        v.as_deref().unwrap_or("").as_bytes().to_vec()
    }

    fn rewrite(
        &self,
        v: &Option<String>,
        default: &Option<String>,
        name: &str,
        st: &mut RewriteState,
    ) {
        match v {
            None => st.mark_processed(name),
            Some(s) => {
                st.rewrite_line(name, format!("{name} {}", repr(s.as_bytes())), v != default)
            }
        }
    }
}

/// Binary-safe string parameters where empty means unset (`requirepass`,
/// `masterauth`: Redis's sds configs).
pub(crate) struct Sds;

impl Codec<Option<Vec<u8>>> for Sds {
    fn parse(
        &self,
        args: &[&[u8]],
        _: &Option<Vec<u8>>,
        _: &mut SetCtx,
    ) -> Result<Option<Vec<u8>>, SetError> {
        let v = single(args)?;
        Ok((!v.is_empty()).then(|| v.to_vec()))
    }

    fn get(&self, v: &Option<Vec<u8>>) -> Vec<u8> {
        v.clone().unwrap_or_default()
    }

    fn rewrite(
        &self,
        v: &Option<Vec<u8>>,
        default: &Option<Vec<u8>>,
        name: &str,
        st: &mut RewriteState,
    ) {
        match v {
            None => st.mark_processed(name),
            Some(s) => st.rewrite_line(name, format!("{name} {}", repr(s)), v != default),
        }
    }
}

/// `proc-title-template`: a string that must expand to something non-empty
/// using only known variables.
pub(crate) struct ProcTitle;

impl Codec<String> for ProcTitle {
    fn parse(&self, args: &[&[u8]], old: &String, ctx: &mut SetCtx) -> Result<String, SetError> {
        Str(None).parse(args, old, ctx)
    }

    fn check(&self, new: &String, config: &Config) -> Result<(), SetError> {
        match config.expand_proc_title(new, "") {
            Some(s) if !s.is_empty() => Ok(()),
            _ => Err("template format is invalid or contains unknown variables".into()),
        }
    }

    fn get(&self, v: &String) -> Vec<u8> {
        v.as_bytes().to_vec()
    }

    fn rewrite(&self, v: &String, default: &String, name: &str, st: &mut RewriteState) {
        Str(None).rewrite(v, default, name, st);
    }
}

// ---------------------------------------------------------------------------
// enums

fn enum_error(names: impl Iterator<Item = &'static str>) -> SetError {
    let mut msg = String::from("argument(s) must be one of the following: ");
    msg.push_str(&names.collect::<Vec<_>>().join(", "));
    // Redis copies the message into a 256 byte buffer.
    if msg.len() > 255 {
        let mut cut = 255;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
    }
    msg.into()
}

/// Enum parameters; the field type implements [`ConfigEnum`].
pub(crate) struct Enum;

impl<E: ConfigEnum> Codec<E> for Enum {
    fn parse(&self, args: &[&[u8]], _: &E, _: &mut SetCtx) -> Result<E, SetError> {
        match args {
            [one] => E::from_name(one),
            _ => None,
        }
        .ok_or_else(|| enum_error(E::NAMES.iter().map(|&(n, _)| n)))
    }

    fn get(&self, v: &E) -> Vec<u8> {
        v.name().into()
    }

    fn rewrite(&self, v: &E, default: &E, name: &str, st: &mut RewriteState) {
        st.rewrite_line(name, format!("{name} {}", v.name()), v != default);
    }
}

/// `shutdown-on-sigint` / `shutdown-on-sigterm`: one or more flag names.
pub(crate) struct Shutdown;

impl Codec<ShutdownFlags> for Shutdown {
    fn parse(
        &self,
        args: &[&[u8]],
        _: &ShutdownFlags,
        _: &mut SetCtx,
    ) -> Result<ShutdownFlags, SetError> {
        let names = || enum_error(ShutdownFlags::NAMES.iter().map(|&(n, _)| n));
        if args.is_empty() {
            return Err(names());
        }
        let mut bits = 0;
        for arg in args {
            let (_, v) = ShutdownFlags::NAMES
                .iter()
                .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(arg))
                .ok_or_else(names)?;
            bits |= v;
        }
        if bits & ShutdownFlags::SAVE != 0 && bits & ShutdownFlags::NOSAVE != 0 {
            return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
        }
        Ok(ShutdownFlags(bits))
    }

    fn get(&self, v: &ShutdownFlags) -> Vec<u8> {
        v.names().into_bytes()
    }

    fn rewrite(
        &self,
        v: &ShutdownFlags,
        default: &ShutdownFlags,
        name: &str,
        st: &mut RewriteState,
    ) {
        st.rewrite_line(name, format!("{name} {}", v.names()), v != default);
    }
}

// ---------------------------------------------------------------------------
// numbers

/// How a numeric parameter is written and which notations it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumFmt {
    /// Plain integer (`string2ll` rules).
    Int,
    /// Memory amount: `1gb`, `100mb`, ...
    Memory,
    /// Memory amount or `N%` (stored as `-N`).
    MemoryPercent,
    /// Octal integer (`unixsocketperm`).
    Octal,
}

/// Integer parameters with inclusive bounds. Implemented for `i64` (Redis's
/// signed C types) and `u64` (unsigned types: bounds compared unsigned).
pub(crate) struct Num {
    pub min: i128,
    pub max: i128,
    pub fmt: NumFmt,
}

impl Num {
    pub(crate) const fn int(min: i128, max: i128) -> Self {
        Num {
            min,
            max,
            fmt: NumFmt::Int,
        }
    }
    pub(crate) const fn mem(min: i128, max: i128) -> Self {
        Num {
            min,
            max,
            fmt: NumFmt::Memory,
        }
    }
    pub(crate) const fn mem_percent(min: i128, max: i128) -> Self {
        Num {
            min,
            max,
            fmt: NumFmt::MemoryPercent,
        }
    }
    pub(crate) const fn octal(min: i128, max: i128) -> Self {
        Num {
            min,
            max,
            fmt: NumFmt::Octal,
        }
    }

    /// Redis's `numericParseString`: the raw `long long` (memory values are
    /// reinterpreted from `unsigned long long`).
    fn parse_raw(&self, arg: &[u8]) -> Result<i64, SetError> {
        let memory = matches!(self.fmt, NumFmt::Memory | NumFmt::MemoryPercent);
        if memory {
            if let Some(v) = parse_memory(arg) {
                return Ok(v as i64);
            }
        }
        if self.fmt == NumFmt::MemoryPercent && arg.len() > 1 && arg.ends_with(b"%") {
            if let Some(v) = parse_i64_strict(&arg[..arg.len() - 1]) {
                if v >= 0 {
                    return Ok(-v);
                }
            }
        }
        if self.fmt == NumFmt::Octal {
            let r = c_strtoll(arg, 8);
            if !r.overflow && r.end == arg.len() {
                return Ok(r.value);
            }
        }
        if self.fmt == NumFmt::Int {
            if let Some(v) = parse_i64_strict(arg) {
                return Ok(v);
            }
        }
        Err(match self.fmt {
            NumFmt::MemoryPercent => "argument must be a memory or percent value",
            NumFmt::Memory => "argument must be a memory value",
            NumFmt::Octal => "argument couldn't be parsed as an octal number",
            NumFmt::Int => "argument couldn't be parsed into an integer",
        }
        .into())
    }

    fn bounds_error(&self) -> SetError {
        if self.fmt == NumFmt::Octal {
            format!(
                "argument must be between {:o} and {:o} inclusive",
                self.min, self.max
            )
            .into()
        } else {
            format!(
                "argument must be between {} and {} inclusive",
                self.min, self.max
            )
            .into()
        }
    }

    fn rewrite_value(&self, v: i128) -> String {
        match self.fmt {
            NumFmt::MemoryPercent if v < 0 => format!("{}%", -v),
            NumFmt::Memory | NumFmt::MemoryPercent => format_memory_for_config(v as u64),
            NumFmt::Octal => format!("{v:o}"),
            NumFmt::Int => v.to_string(),
        }
    }

    fn get_value(&self, v: i128) -> String {
        match self.fmt {
            NumFmt::MemoryPercent if v < 0 => format!("{}%", -v),
            NumFmt::Octal => format!("{v:o}"),
            _ => v.to_string(),
        }
    }
}

impl Codec<i64> for Num {
    fn parse(&self, args: &[&[u8]], _: &i64, _: &mut SetCtx) -> Result<i64, SetError> {
        let v = self.parse_raw(single(args)?)?;
        if self.fmt == NumFmt::MemoryPercent && v < 0 {
            if i128::from(v) < self.min {
                return Err(
                    format!("percentage argument must be less or equal to {}", -self.min).into(),
                );
            }
        } else if i128::from(v) > self.max || i128::from(v) < self.min {
            return Err(self.bounds_error());
        }
        Ok(v)
    }

    fn get(&self, v: &i64) -> Vec<u8> {
        self.get_value(i128::from(*v)).into_bytes()
    }

    fn rewrite(&self, v: &i64, default: &i64, name: &str, st: &mut RewriteState) {
        st.rewrite_line(
            name,
            format!("{name} {}", self.rewrite_value(i128::from(*v))),
            v != default,
        );
    }
}

impl Codec<u64> for Num {
    fn parse(&self, args: &[&[u8]], _: &u64, _: &mut SetCtx) -> Result<u64, SetError> {
        let v = self.parse_raw(single(args)?)? as u64;
        if i128::from(v) > self.max || i128::from(v) < self.min {
            return Err(self.bounds_error());
        }
        Ok(v)
    }

    fn get(&self, v: &u64) -> Vec<u8> {
        self.get_value(i128::from(*v)).into_bytes()
    }

    fn rewrite(&self, v: &u64, default: &u64, name: &str, st: &mut RewriteState) {
        st.rewrite_line(
            name,
            format!("{name} {}", self.rewrite_value(i128::from(*v))),
            v != default,
        );
    }
}

// ---------------------------------------------------------------------------
// special parameters

/// `dir`: changes the working directory; the value is the absolute path.
pub(crate) struct Dir;

impl Codec<String> for Dir {
    fn parse(&self, args: &[&[u8]], _: &String, ctx: &mut SetCtx) -> Result<String, SetError> {
        let arg = c_string(single(args)?);
        if !ctx.side_effects {
            return Ok(arg);
        }
        std::env::set_current_dir(&arg).map_err(|e| SetError::from(strerror(&e)))?;
        Ok(std::env::current_dir()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default())
    }

    fn always_changed(&self) -> bool {
        true
    }

    fn get(&self, v: &String) -> Vec<u8> {
        v.as_bytes().to_vec()
    }

    fn rewrite(&self, v: &String, _: &String, name: &str, st: &mut RewriteState) {
        st.rewrite_line(name, format!("{name} {}", repr(v.as_bytes())), true);
    }
}

/// The text of an OS error without Rust's " (os error N)" suffix, i.e. what
/// C's `strerror()` prints.
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// `save <seconds> <changes> [...]` or `save ""`.
pub(crate) struct Save;

impl Codec<Vec<SaveParam>> for Save {
    fn parse(
        &self,
        args: &[&[u8]],
        old: &Vec<SaveParam>,
        ctx: &mut SetCtx,
    ) -> Result<Vec<SaveParam>, SetError> {
        let invalid = || SetError::from("Invalid save parameters");
        if args.len() == 1 && args[0].is_empty() {
            // `save ""` always clears every save point, even mid-file.
            ctx.save_loaded |= ctx.reading_file;
            return Ok(Vec::new());
        }
        if !args.len().is_multiple_of(2) {
            return Err(invalid());
        }
        let mut parsed = Vec::with_capacity(args.len() / 2);
        for pair in args.chunks(2) {
            let seconds = c_strtoll_full(pair[0])
                .filter(|&s| s >= 1)
                .ok_or_else(invalid)?;
            let changes = c_strtoll_full(pair[1])
                .filter(|&c| c >= 0)
                .ok_or_else(invalid)?;
            // `changes` is a C int in Redis.
            parsed.push(SaveParam {
                seconds,
                changes: i64::from(changes as i32),
            });
        }
        if ctx.reading_file && ctx.save_loaded {
            let mut all = old.clone();
            all.extend(parsed);
            return Ok(all);
        }
        if ctx.reading_file {
            ctx.save_loaded = true;
        }
        Ok(parsed)
    }

    fn always_changed(&self) -> bool {
        true
    }

    fn get(&self, v: &Vec<SaveParam>) -> Vec<u8> {
        v.iter()
            .map(|p| format!("{} {}", p.seconds, p.changes))
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes()
    }

    fn rewrite(&self, v: &Vec<SaveParam>, _: &Vec<SaveParam>, name: &str, st: &mut RewriteState) {
        if v.is_empty() {
            st.rewrite_line(name, format!("{name} \"\""), true);
        }
        for p in v {
            st.rewrite_line(name, format!("{name} {} {}", p.seconds, p.changes), true);
        }
        st.mark_processed(name);
    }
}

/// `client-output-buffer-limit <class> <hard> <soft> <seconds> [...]`.
pub(crate) struct ObufLimits;

impl Codec<[ObufLimit; 3]> for ObufLimits {
    fn parse(
        &self,
        args: &[&[u8]],
        old: &[ObufLimit; 3],
        _: &mut SetCtx,
    ) -> Result<[ObufLimit; 3], SetError> {
        if !args.len().is_multiple_of(4) {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        let mut new = *old;
        for quad in args.chunks(4) {
            let class = ClientClass::from_name(quad[0])
                .ok_or("Invalid client class specified in buffer limit configuration.")?;
            let err = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            let hard = parse_memory(quad[1]).ok_or(err)?;
            let soft = parse_memory(quad[2]).ok_or(err)?;
            // strtoll() into a C int, then checked for negative values.
            let secs = c_strtoll(quad[3], 10);
            let secs_int = i64::from(secs.value as i32);
            if secs.end != quad[3].len() || secs_int < 0 {
                return Err(err.into());
            }
            new[class as usize] = ObufLimit {
                hard_limit_bytes: hard,
                soft_limit_bytes: soft,
                soft_limit_seconds: secs_int,
            };
        }
        Ok(new)
    }

    fn always_changed(&self) -> bool {
        true
    }

    fn get(&self, v: &[ObufLimit; 3]) -> Vec<u8> {
        ["normal", "slave", "pubsub"]
            .iter()
            .zip(v)
            .map(|(class, l)| {
                format!(
                    "{class} {} {} {}",
                    l.hard_limit_bytes, l.soft_limit_bytes, l.soft_limit_seconds
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes()
    }

    fn rewrite(&self, v: &[ObufLimit; 3], _: &[ObufLimit; 3], name: &str, st: &mut RewriteState) {
        for ((class, l), d) in ["normal", "replica", "pubsub"]
            .iter()
            .zip(v)
            .zip(&DEFAULT_OBUF_LIMITS)
        {
            let line = format!(
                "{name} {class} {} {} {}",
                format_memory_for_config(l.hard_limit_bytes),
                format_memory_for_config(l.soft_limit_bytes),
                l.soft_limit_seconds
            );
            st.rewrite_line(name, line, l != d);
        }
    }
}

/// `oom-score-adj-values <master> <replica> <bgchild>`.
pub(crate) struct OomValues;

impl Codec<[i32; 3]> for OomValues {
    fn parse(&self, args: &[&[u8]], _: &[i32; 3], _: &mut SetCtx) -> Result<[i32; 3], SetError> {
        if args.len() != 3 {
            return Err("wrong number of arguments".into());
        }
        let mut values = [0i32; 3];
        for (slot, arg) in values.iter_mut().zip(args) {
            *slot = c_strtoll_full(arg)
                .filter(|v| (-2000..=2000).contains(v))
                .map(|v| v as i32)
                .ok_or("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")?;
        }
        Ok(values)
    }

    fn get(&self, v: &[i32; 3]) -> Vec<u8> {
        format!("{} {} {}", v[0], v[1], v[2]).into_bytes()
    }

    fn rewrite(&self, v: &[i32; 3], default: &[i32; 3], name: &str, st: &mut RewriteState) {
        st.rewrite_line(
            name,
            format!("{name} {} {} {}", v[0], v[1], v[2]),
            v != default,
        );
    }
}

/// `notify-keyspace-events <classes>`.
pub(crate) struct NotifyEvents;

impl Codec<u32> for NotifyEvents {
    fn parse(&self, args: &[&[u8]], _: &u32, _: &mut SetCtx) -> Result<u32, SetError> {
        notify::from_letters(single(args)?)
            .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into())
    }

    fn always_changed(&self) -> bool {
        true
    }

    fn get(&self, v: &u32) -> Vec<u8> {
        notify::to_letters(*v).into_bytes()
    }

    fn rewrite(&self, v: &u32, _: &u32, name: &str, st: &mut RewriteState) {
        let line = format!("{name} {}", repr(notify::to_letters(*v).as_bytes()));
        st.rewrite_line(name, line, *v != 0);
    }
}

/// Maximum number of `bind` addresses.
pub const BIND_ADDR_MAX: usize = 16;

/// `bind <addr> [...]` (`bind ""` binds nothing).
pub(crate) struct Bind;

impl Codec<Vec<String>> for Bind {
    fn parse(
        &self,
        args: &[&[u8]],
        _: &Vec<String>,
        _: &mut SetCtx,
    ) -> Result<Vec<String>, SetError> {
        if args.len() > BIND_ADDR_MAX {
            return Err("Too many bind addresses specified.".into());
        }
        if args.len() == 1 && args[0].is_empty() {
            return Ok(Vec::new());
        }
        Ok(args.iter().map(|a| c_string(a)).collect())
    }

    fn always_changed(&self) -> bool {
        true
    }

    fn get(&self, v: &Vec<String>) -> Vec<u8> {
        v.join(" ").into_bytes()
    }

    fn rewrite(&self, v: &Vec<String>, default: &Vec<String>, name: &str, st: &mut RewriteState) {
        if v == default {
            st.mark_processed(name);
        } else if v.is_empty() {
            st.rewrite_line(name, format!("{name} \"\""), true);
        } else {
            let addrs: Vec<String> = v.iter().map(|a| quote_if_needed(a.as_bytes())).collect();
            st.rewrite_line(name, format!("{name} {}", addrs.join(" ")), true);
        }
    }
}

/// `replicaof <host> <port>` / `replicaof no one`.
pub(crate) struct ReplicaOfC;

impl Codec<Option<ReplicaOf>> for ReplicaOfC {
    fn parse(
        &self,
        args: &[&[u8]],
        _: &Option<ReplicaOf>,
        _: &mut SetCtx,
    ) -> Result<Option<ReplicaOf>, SetError> {
        let [host, port] = args else {
            return Err("wrong number of arguments".into());
        };
        if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
            return Ok(None);
        }
        let port = c_strtoll_full(port)
            .and_then(|p| u16::try_from(p).ok())
            .ok_or("Invalid master port")?;
        Ok(Some(ReplicaOf {
            host: c_string(host),
            port,
        }))
    }

    fn always_changed(&self) -> bool {
        true
    }

    fn get(&self, v: &Option<ReplicaOf>) -> Vec<u8> {
        v.as_ref()
            .map(|r| format!("{} {}", r.host, r.port))
            .unwrap_or_default()
            .into_bytes()
    }

    fn rewrite(
        &self,
        v: &Option<ReplicaOf>,
        _: &Option<ReplicaOf>,
        name: &str,
        st: &mut RewriteState,
    ) {
        match v {
            Some(r) if !st.cluster_enabled => {
                let host = quote_if_needed(r.host.as_bytes());
                st.rewrite_line(name, format!("{name} {host} {}", r.port), true)
            }
            _ => st.mark_processed(name),
        }
    }
}

/// `latency-tracking-info-percentiles <p> [...]` (`""` for none).
pub(crate) struct Percentiles;

impl Codec<Vec<f64>> for Percentiles {
    fn parse(&self, args: &[&[u8]], _: &Vec<f64>, _: &mut SetCtx) -> Result<Vec<f64>, SetError> {
        if args.len() == 1 && args[0].is_empty() {
            return Ok(Vec::new());
        }
        args.iter()
            .map(|a| {
                let p = parse_f64_strict(a).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                }
                Ok(p)
            })
            .collect()
    }

    fn always_changed(&self) -> bool {
        true
    }

    fn get(&self, v: &Vec<f64>) -> Vec<u8> {
        v.iter()
            .map(|&p| format_f64_trimmed(p))
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes()
    }

    fn rewrite(&self, v: &Vec<f64>, _: &Vec<f64>, name: &str, st: &mut RewriteState) {
        let line = if v.is_empty() {
            format!("{name} \"\"")
        } else {
            let values: Vec<String> = v.iter().map(|&p| format_f64_trimmed(p)).collect();
            format!("{name} {}", values.join(" "))
        };
        st.rewrite_line(name, line, true);
    }
}

// ---------------------------------------------------------------------------
// validity checks used by the table

pub(crate) fn valid_active_defrag(enabled: bool) -> Result<(), &'static str> {
    if enabled && !super::ACTIVE_DEFRAG_SUPPORTED {
        return Err(
            "Active defragmentation cannot be enabled: it requires a Redis server compiled \
                    with a modified Jemalloc like the one shipped by default with the Redis source \
                    distribution",
        );
    }
    Ok(())
}

fn is_base_name(s: &str) -> bool {
    !s.contains('/') && !s.contains('\\')
}

pub(crate) fn valid_dbfilename(v: &str) -> Result<(), &'static str> {
    if !is_base_name(v) {
        return Err("dbfilename can't be a path, just a filename");
    }
    Ok(())
}

pub(crate) fn valid_appendfilename(v: &str) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appendfilename can't be empty");
    }
    if !is_base_name(v) {
        return Err("appendfilename can't be a path, just a filename");
    }
    Ok(())
}

pub(crate) fn valid_appenddirname(v: &str) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appenddirname can't be empty");
    }
    if !is_base_name(v) {
        return Err("appenddirname can't be a path, just a dirname");
    }
    Ok(())
}

pub(crate) fn valid_hostname(v: &str) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if !v
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
    }
    Ok(())
}

/// Parses the multi-argument value of a configuration file line: a single
/// non-empty argument is itself split (`save "900 1 300 10"`).
pub(crate) fn file_multi_args(argv: &[Vec<u8>]) -> Vec<Vec<u8>> {
    if argv.len() == 1 && !argv[0].is_empty() {
        split_args(&argv[0]).unwrap_or_default()
    } else {
        argv.to_vec()
    }
}
