//! Redust's configuration subsystem, compatible with Redis 7.0.15.
//!
//! One declarative table (`table.rs`) lists every parameter with its name,
//! alias, flags, Rust type, default, syntax (codec) and apply action; the
//! [`Config`] struct and all per-parameter behaviour are generated from it.
//! This module provides the operations on top of the table:
//!
//! * loading: [`Config::load`] reads a file (with `include`s), stdin and the
//!   command line options produced by [`parse_command_line`], failing with a
//!   [`ConfigFileError`] that prints Redis's exact FATAL report;
//! * `CONFIG GET` ([`Config::get`]), `CONFIG SET` ([`Config::set`], atomic with
//!   rollback) and `CONFIG REWRITE` ([`Config::rewrite`]);
//! * lexical helpers shared with the rest of the server in [`parse`]
//!   (`split_args`, `parse_memory`, `bytes_to_human`, glob matching).
//!
//! Field naming convention: the field of parameter `foo-bar` is `foo_bar`
//! (primary name, never the alias). All fields are public; the server reads
//! them directly. Startup-only directives (`rename-command`, `user`,
//! `loadmodule`, module configs) are collected in [`Config::startup`].

mod codec;
pub mod load;
pub mod parse;
pub mod rewrite;
mod table;
pub mod types;

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

pub use codec::{strerror, BIND_ADDR_MAX};
pub use load::{
    absolute_path, parse_command_line, CommandLine, ConfigFileError, Directive, LoadOptions,
    StartupDirectives,
};
pub use parse::{bytes_to_human, glob_match, parse_memory, split_args};
pub use rewrite::{RewriteExtras, REWRITE_SIGNATURE};
pub use table::{
    Apply, Config, ParamInfo, DEBUG, DEFAULT_PROC_TITLE_TEMPLATE, DENY_LOADING, HIDDEN, IMMUTABLE,
    MODIFIABLE, MULTI_ARG, PROTECTED, SENSITIVE, VOLATILE,
};
pub use types::*;

pub(crate) use table::PARAMS;

/// The Redis version this configuration system emulates (used in reports).
pub const REDIS_VERSION: &str = "7.0.15";

/// Whether `activedefrag yes` is accepted. Redust has no defragmenter, so it
/// answers like a Redis built without jemalloc defrag support.
pub const ACTIVE_DEFRAG_SUPPORTED: bool = false;

/// Smallest effective `hz`.
pub const CONFIG_MIN_HZ: i64 = 1;
/// Largest effective `hz`.
pub const CONFIG_MAX_HZ: i64 = 500;

/// Error reply while loading (`-LOADING ...`).
pub const LOADING_ERROR: &str = "LOADING Redis is loading the dataset in memory";

struct NameIndex {
    /// Lower-case name or alias -> (index in PARAMS, is alias).
    by_name: HashMap<Vec<u8>, (usize, bool)>,
    /// Every name and alias in table order: (name, index).
    all: Vec<(&'static str, usize)>,
}

fn index() -> &'static NameIndex {
    static INDEX: OnceLock<NameIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut by_name = HashMap::new();
        let mut all = Vec::new();
        for (i, p) in PARAMS.iter().enumerate() {
            by_name.insert(p.name.as_bytes().to_vec(), (i, false));
            all.push((p.name, i));
            if let Some(alias) = p.alias {
                by_name.insert(alias.as_bytes().to_vec(), (i, true));
                all.push((alias, i));
            }
        }
        NameIndex { by_name, all }
    })
}

/// Finds a table entry by name or alias (ASCII case-insensitive):
/// `(index, matched via the alias)`.
fn entry(name: &[u8]) -> Option<(usize, bool)> {
    index().by_name.get(&name.to_ascii_lowercase()).copied()
}

/// Looks a parameter up by name or alias, ASCII case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static ParamInfo> {
    entry(name).map(|(i, _)| &PARAMS[i])
}

/// Context of a `CONFIG SET` call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetOptions {
    /// The client is local (loopback or unix socket): decides whether
    /// `enable-protected-configs local` allows PROTECTED parameters.
    pub client_is_local: bool,
    /// The server is loading its dataset: DENY_LOADING parameters are refused.
    pub loading: bool,
}

/// The apply callback of [`Config::set`]: `(current, previous, action)`.
pub type ApplyFn<'a> = dyn FnMut(&Config, &Config, Apply) -> Result<(), String> + 'a;

impl Config {
    /// Every parameter, in table order (aliases are fields of the entries).
    pub fn params() -> &'static [ParamInfo] {
        PARAMS
    }

    /// All parameter names and aliases, hidden ones included, in table order.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        index().all.iter().map(|&(n, _)| n)
    }

    /// Whether `CONFIG SET` arguments for `name` must be redacted from logs,
    /// SLOWLOG and MONITOR (SENSITIVE parameters).
    pub fn is_sensitive(name: &[u8]) -> bool {
        lookup(name).is_some_and(|p| p.has(SENSITIVE))
    }

    /// `CONFIG GET pattern [pattern ...]`: `(name, value)` pairs, without
    /// duplicates. A pattern without `*?[` is an exact, case-insensitive
    /// lookup of a name or alias and is returned under the spelling given
    /// (hidden parameters included); glob patterns match names and aliases
    /// case-insensitively and skip hidden parameters.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        for pattern in patterns {
            if !pattern.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
                if seen.contains(&pattern.to_ascii_lowercase()) {
                    continue;
                }
                if let Some(p) = lookup(pattern) {
                    seen.insert(pattern.to_ascii_lowercase());
                    out.push((String::from_utf8_lossy(pattern).into_owned(), (p.get)(self)));
                }
                continue;
            }
            for &(name, i) in &index().all {
                let p = &PARAMS[i];
                if p.has(HIDDEN) || seen.contains(name.as_bytes()) {
                    continue;
                }
                if glob_match(pattern, name.as_bytes(), true) {
                    seen.insert(name.as_bytes().to_vec());
                    out.push((name.to_string(), (p.get)(self)));
                }
            }
        }
        out
    }

    /// The `CONFIG GET` value of one parameter (name or alias).
    pub fn get_value(&self, name: &[u8]) -> Option<Vec<u8>> {
        lookup(name).map(|p| (p.get)(self))
    }

    /// `CONFIG SET name value [name value ...]`, atomically.
    ///
    /// All names are validated first (unknown, immutable, protected, denied
    /// while loading, duplicated), then all values are parsed and stored; on
    /// any error every value is restored. Then `apply(current, previous,
    /// action)` runs once per distinct [`Apply`] action of the parameters that
    /// actually changed; if one fails, the previous configuration is restored,
    /// `apply` is called again for every collected action to roll back, and
    /// the error names the parameter of the failing action.
    ///
    /// Errors are complete reply lines without the leading `-`, e.g.
    /// `ERR Unknown option or number of arguments for CONFIG SET - 'foo'`,
    /// `ERR CONFIG SET failed (possibly related to argument 'port') - ...`, or
    /// [`LOADING_ERROR`]. The caller checks the arity (odd argument count is
    /// a syntax error) and redacts SENSITIVE values ([`Config::is_sensitive`]).
    /// Note: setting `dir` changes the process's working directory.
    pub fn set(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        opts: &SetOptions,
        apply: &mut ApplyFn<'_>,
    ) -> Result<(), String> {
        let set_failed = |arg: &str, err: &str| {
            if err.is_empty() {
                format!("ERR CONFIG SET failed (possibly related to argument '{arg}')")
            } else {
                format!("ERR CONFIG SET failed (possibly related to argument '{arg}') - {err}")
            }
        };

        // 1. Validate the names.
        let mut targets: Vec<((usize, bool), &[u8])> = Vec::with_capacity(pairs.len());
        let mut unknown: Option<&[u8]> = None;
        let mut error: Option<(String, &'static str)> = None;
        let mut deny_loading = false;
        for &(name, value) in pairs {
            let Some(e) = entry(name) else {
                if unknown.is_none() && error.is_none() && !deny_loading {
                    unknown = Some(name);
                }
                continue;
            };
            if unknown.is_some() || error.is_some() || deny_loading {
                continue;
            }
            let p = &PARAMS[e.0];
            let arg = String::from_utf8_lossy(name).into_owned();
            if p.has(IMMUTABLE) {
                error = Some((arg, "can't set immutable config"));
            } else if p.has(PROTECTED)
                && !self.enable_protected_configs.allows(opts.client_is_local)
            {
                error = Some((arg, "can't set protected config"));
            } else if opts.loading && p.has(DENY_LOADING) {
                deny_loading = true;
            } else if targets.iter().any(|&(t, _)| t == e) {
                error = Some((arg, "duplicate parameter"));
            } else {
                targets.push((e, value));
            }
        }
        if deny_loading {
            return Err(LOADING_ERROR.to_string());
        }
        if let Some(name) = unknown {
            return Err(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                String::from_utf8_lossy(name)
            ));
        }
        if let Some((arg, err)) = error {
            return Err(set_failed(&arg, err));
        }

        // 2. Set every value, remembering the apply actions of changed ones.
        let old = self.clone();
        let display_name = |(i, alias): (usize, bool)| match (alias, PARAMS[i].alias) {
            (true, Some(a)) => a,
            _ => PARAMS[i].name,
        };
        let mut actions: Vec<(Apply, (usize, bool))> = Vec::new();
        let mut ctx = codec::SetCtx {
            side_effects: true,
            ..Default::default()
        };
        for &(e, value) in &targets {
            let p = &PARAMS[e.0];
            let args: Vec<&[u8]> = if p.has(MULTI_ARG) {
                parse::split_on_spaces(value)
            } else {
                vec![value]
            };
            match (p.set)(self, &args, &mut ctx) {
                Ok(changed) => {
                    if let Some(action) = p.apply.filter(|_| changed) {
                        if !actions.iter().any(|&(a, _)| a == action) {
                            actions.push((action, e));
                        }
                    }
                }
                Err(err) => {
                    self.restore(old);
                    return Err(set_failed(display_name(e), &err));
                }
            }
        }
        self.normalize();

        // 3. Apply, rolling everything back if an action fails.
        for &(action, e) in &actions {
            if let Err(err) = apply(self, &old, action) {
                let failed = std::mem::replace(self, old.clone());
                self.restore_dir(&failed);
                for &(action, _) in &actions {
                    // Errors while rolling back can only be logged by the caller.
                    let _ = apply(self, &failed, action);
                }
                return Err(set_failed(display_name(e), &err));
            }
        }
        Ok(())
    }

    /// Sets one parameter as a configuration file line would (no
    /// immutability or protection checks, no apply actions). For the server's
    /// own use, e.g. keeping `replicaof` current after a REPLICAOF command.
    /// Returns whether the value changed.
    pub fn set_directive(&mut self, name: &[u8], args: &[&[u8]]) -> Result<bool, String> {
        let p =
            lookup(name).ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        let mut ctx = codec::SetCtx {
            side_effects: true,
            ..Default::default()
        };
        let changed = (p.set)(self, args, &mut ctx).map_err(|e| e.into_owned())?;
        self.normalize();
        Ok(changed)
    }

    fn restore(&mut self, old: Config) {
        let failed = std::mem::replace(self, old);
        self.restore_dir(&failed);
    }

    /// After a rollback, go back to the old working directory if `dir` moved.
    fn restore_dir(&self, failed: &Config) {
        if failed.dir != self.dir && !self.dir.is_empty() {
            let _ = std::env::set_current_dir(&self.dir);
        }
    }

    /// Post-set fixups Redis performs in its apply/load code.
    pub(crate) fn normalize(&mut self) {
        self.hz = self.hz.clamp(CONFIG_MIN_HZ, CONFIG_MAX_HZ);
    }

    /// Listening addresses (`bind`).
    pub fn bind_addrs(&self) -> &[String] {
        &self.bind
    }

    /// RDB save points (`save`).
    pub fn save_params(&self) -> &[SaveParam] {
        &self.save
    }

    /// Output buffer limits for a client class.
    pub fn obuf_limit(&self, class: ClientClass) -> &ObufLimit {
        &self.client_output_buffer_limit[class as usize]
    }

    /// Effective client eviction limit in bytes (0 = disabled), resolving a
    /// percentage of `maxmemory` and enforcing the 128k floor, like Redis's
    /// `getClientEvictionLimit()`.
    pub fn maxmemory_clients_bytes(&self) -> u64 {
        let limit = if self.maxmemory_clients < 0 && self.maxmemory > 0 {
            (self.maxmemory as f64 * -(self.maxmemory_clients as f64) / 100.0) as u64
        } else if self.maxmemory_clients > 0 {
            self.maxmemory_clients as u64
        } else {
            return 0;
        };
        limit.max(128 * 1024)
    }

    /// Expands a `proc-title-template` (`{title}`, `{listen-addr}`,
    /// `{server-mode}`, `{config-file}`, `{port}`, `{tls-port}`,
    /// `{unixsocket}`; `{{` is a literal `{`) and trims spaces. `None` when
    /// the template is malformed or names an unknown variable.
    pub fn expand_proc_title(&self, template: &str, title: &str) -> Option<String> {
        let mut out = String::new();
        let mut rest = template;
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                out.push_str(rest);
                break;
            };
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            if after.is_empty() {
                return None;
            }
            if let Some(stripped) = after.strip_prefix('{') {
                out.push('{');
                rest = stripped;
                continue;
            }
            let close = after.find('}')?;
            let value = match &after[..close] {
                "title" => title.to_string(),
                "listen-addr" => {
                    if self.port != 0 || self.tls_port != 0 {
                        let addr = self.bind.first().map_or("*", String::as_str);
                        let port = if self.port != 0 {
                            self.port
                        } else {
                            self.tls_port
                        };
                        format!("{addr}:{port}")
                    } else {
                        format!(
                            "unixsocket:{}",
                            self.unixsocket.as_deref().unwrap_or("(null)")
                        )
                    }
                }
                "server-mode" => if self.cluster_enabled {
                    "[cluster]"
                } else {
                    ""
                }
                .to_string(),
                "config-file" => self.configfile.clone().unwrap_or_else(|| "-".to_string()),
                "port" => self.port.to_string(),
                "tls-port" => self.tls_port.to_string(),
                "unixsocket" => self.unixsocket.clone().unwrap_or_default(),
                _ => return None,
            };
            out.push_str(&value);
            rest = &after[close + 1..];
        }
        Some(out.trim_matches(' ').to_string())
    }
}

#[cfg(test)]
mod tests;
