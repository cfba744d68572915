//! Loading the configuration at startup: the configuration file (with
//! `include`, wildcards allowed), optional stdin, and the options given on the
//! command line, which `redis-server` turns into extra configuration lines
//! ([`parse_command_line`]).
//!
//! Lines are processed in order, the last occurrence of a parameter wins
//! (except `save`, where the first line replaces the defaults and later lines
//! add save points). Errors stop loading with a [`ConfigFileError`] whose
//! `Display` is byte-for-byte the report Redis prints before exiting.
//! Directives that need other subsystems (`rename-command`, `user`,
//! `loadmodule`, module configs) are only collected, in
//! [`StartupDirectives`], for the server to apply after loading.

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::codec::{file_multi_args, strerror, SetCtx};
use super::parse::{glob_match, push_repr, split_args};
use super::{lookup, Config, MULTI_ARG, REDIS_VERSION};

/// How [`Config::load_with`] treats process-wide side effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// When true (the default), `dir` changes the working directory and the
    /// `logfile` is test-opened, as Redis does. Tests and tools that only
    /// want to parse a file set this to false.
    pub side_effects: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { side_effects: true }
    }
}

/// A configuration line the configuration module does not interpret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// All arguments, starting with the directive name (lower-cased).
    pub args: Vec<Vec<u8>>,
    /// 1-based line number within the file (or text) it came from.
    pub line_num: usize,
    /// The trimmed line, for error reports.
    pub line: Vec<u8>,
}

/// Startup-only directives collected while loading, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StartupDirectives {
    /// `rename-command <command> <new-name>` (empty new name: remove). The
    /// server reports "No such command in rename-command" and "Target
    /// command name already exists" with [`ConfigFileError::at`].
    pub rename_commands: Vec<Directive>,
    /// `user <name> <rules...>`; errors are reported as
    /// `Error in user declaration '<arg>': <reason>` via [`ConfigFileError::at`].
    pub users: Vec<Directive>,
    /// `loadmodule <path> [args...]`.
    pub loadmodules: Vec<Directive>,
    /// `<module>.<name> <value...>` module configuration (values joined by
    /// spaces; a later line replaces an earlier one).
    pub module_configs: Vec<(String, String)>,
}

/// A fatal configuration error. `Display` renders exactly what Redis prints
/// on stderr (for [`ConfigFileError::Invalid`]) or logs at warning level (for
/// [`ConfigFileError::Open`]) before exiting with status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigFileError {
    /// A configuration file could not be opened or read.
    Open {
        /// The path as given.
        path: String,
        /// `strerror()` text.
        reason: String,
    },
    /// A line was rejected (or a check after the last line failed, in which
    /// case there is no location).
    Invalid {
        /// 1-based line number and trimmed line text.
        location: Option<(usize, String)>,
        /// Redis's error message.
        message: String,
    },
}

impl ConfigFileError {
    /// An error about a collected directive, for the server's own checks.
    pub fn at(directive: &Directive, message: impl Into<String>) -> Self {
        ConfigFileError::Invalid {
            location: Some((
                directive.line_num,
                String::from_utf8_lossy(&directive.line).into_owned(),
            )),
            message: message.into(),
        }
    }

    fn line(line_num: usize, line: &[u8], message: impl Into<String>) -> Self {
        ConfigFileError::Invalid {
            location: Some((line_num, String::from_utf8_lossy(line).into_owned())),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigFileError::Open { path, reason } => {
                write!(f, "Fatal error, can't open config file '{path}': {reason}")
            }
            ConfigFileError::Invalid { location, message } => {
                write!(
                    f,
                    "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n"
                )?;
                if let Some((line_num, line)) = location {
                    write!(
                        f,
                        "Reading the configuration file, at line {line_num}\n>>> '{line}'\n"
                    )?;
                }
                writeln!(f, "{message}")
            }
        }
    }
}

impl std::error::Error for ConfigFileError {}

/// The result of splitting `redis-server`'s command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandLine {
    /// Absolute path of the configuration file (first argument, when it does
    /// not start with `-`).
    pub config_file: Option<String>,
    /// A lone `-` as first or last argument: read configuration from stdin.
    pub read_stdin: bool,
    /// The remaining options as configuration text, e.g. `--port 7777
    /// --save ""` becomes `port "7777" \nsave "" ` (option values are
    /// quoted; Redis trims the lines when parsing).
    pub options: Vec<u8>,
}

/// Turns `redis-server`'s arguments (without the program name) into a
/// [`CommandLine`], exactly like Redis 7.0's `main()`. The caller handles
/// `-v`/`--version`, `-h`/`--help`, `--test-memory` and `--check-system`
/// before calling this.
///
/// Each `--name` starts a new line; following arguments that do not start
/// with `--` are its values (quoted). A value may itself start with `--`
/// when it directly follows an option name given alone (`--port --bla`).
/// `--save` followed by another option, or last, becomes `save ""`. Name and
/// value may also come in one argument (`"--maxmemory 700mb"`).
pub fn parse_command_line<A: AsRef<[u8]>>(args: &[A]) -> CommandLine {
    let mut cl = CommandLine::default();
    let n = args.len();
    let mut j = 0;
    if let Some(first) = args.first() {
        if first.as_ref().first() != Some(&b'-') {
            cl.config_file = Some(absolute_path(first.as_ref()));
            j = 1;
        }
    }
    let opts = &mut cl.options;
    let mut handled_last_config_arg = true;
    while j < n {
        let arg = args[j].as_ref();
        let next_is_option = j + 1 < n && args[j + 1].as_ref().starts_with(b"--");
        if arg == b"-" && (j == 0 || j == n - 1) {
            cl.read_stdin = true;
        } else if handled_last_config_arg && arg.starts_with(b"--") {
            if !opts.is_empty() {
                opts.push(b'\n');
            }
            opts.extend_from_slice(&arg[2..]);
            opts.push(b' ');
            let words = split_args(arg).map_or(0, |a| a.len());
            if words == 1 {
                // Only an option name, like `--port` or `"--port "`.
                handled_last_config_arg = false;
                let is = |name: &[u8]| arg.eq_ignore_ascii_case(name);
                if is(b"--save") && next_is_option {
                    opts.extend_from_slice(b"\"\"");
                    handled_last_config_arg = true;
                } else if is(b"--save") && j == n - 1 {
                    opts.extend_from_slice(b"\"\"");
                } else if is(b"--sentinel") && next_is_option {
                    handled_last_config_arg = true;
                }
            } else {
                // Name and value in one argument, like "--port 6380".
                handled_last_config_arg = true;
            }
        } else {
            let mut quoted = String::new();
            push_repr(&mut quoted, arg);
            opts.extend_from_slice(quoted.as_bytes());
            opts.push(b' ');
            handled_last_config_arg = true;
        }
        j += 1;
    }
    cl
}

/// Makes a path absolute like Redis's `getAbsolutePath()`: trims
/// whitespace, prefixes the working directory, and folds leading `../`.
pub fn absolute_path(filename: &[u8]) -> String {
    let rel = String::from_utf8_lossy(filename);
    let mut rel: &str = rel.trim_matches([' ', '\r', '\n', '\t']);
    if rel.starts_with('/') {
        return rel.to_string();
    }
    let mut abs = std::env::current_dir()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !abs.ends_with('/') {
        abs.push('/');
    }
    while let Some(stripped) = rel.strip_prefix("../") {
        rel = stripped;
        if abs.len() > 1 {
            let without_slash = &abs[..abs.len() - 1];
            let cut = without_slash.rfind('/').map_or(0, |i| i + 1);
            abs.truncate(cut.max(1));
        }
    }
    abs.push_str(rel);
    abs
}

/// Deprecated directives accepted and ignored with exactly one argument.
const DEPRECATED: [&[u8]; 3] = [
    b"list-max-ziplist-entries",
    b"list-max-ziplist-value",
    b"lua-replicate-commands",
];

/// Maximum `include` nesting (Redis recurses without limit and crashes on
/// include cycles; we report an error instead).
const MAX_INCLUDE_DEPTH: usize = 32;

struct Loader {
    config: Config,
    ctx: SetCtx,
    side_effects: bool,
    include_depth: usize,
}

impl Config {
    /// Loads the configuration like `redis-server [path] [-] [options]`:
    /// defaults, then the file at `path`, then stdin when `read_stdin`, then
    /// the `options` text (see [`parse_command_line`]).
    pub fn load(
        path: Option<&str>,
        options: &[u8],
        read_stdin: bool,
    ) -> Result<Config, ConfigFileError> {
        Self::load_with(path, options, read_stdin, &LoadOptions::default())
    }

    /// [`Config::load`] with explicit [`LoadOptions`].
    pub fn load_with(
        path: Option<&str>,
        options: &[u8],
        read_stdin: bool,
        opts: &LoadOptions,
    ) -> Result<Config, ConfigFileError> {
        let mut loader = Loader::new(opts);
        loader.config.configfile = path.map(|p| absolute_path(p.as_bytes()));
        let mut text = match path {
            Some(p) => read_config_files(p.as_bytes())?,
            None => Vec::new(),
        };
        if read_stdin {
            std::io::stdin()
                .read_to_end(&mut text)
                .map_err(|e| ConfigFileError::Open {
                    path: "-".to_string(),
                    reason: strerror(&e),
                })?;
        }
        text.push(b'\n');
        text.extend_from_slice(options);
        loader.parse_text(&text)?;
        Ok(loader.config)
    }

    /// Parses configuration text on top of the defaults, without any file
    /// (`include` still reads files).
    pub fn from_text(text: &[u8], opts: &LoadOptions) -> Result<Config, ConfigFileError> {
        let mut loader = Loader::new(opts);
        loader.parse_text(text)?;
        Ok(loader.config)
    }
}

impl Loader {
    fn new(opts: &LoadOptions) -> Self {
        Loader {
            config: Config::default(),
            ctx: SetCtx {
                side_effects: opts.side_effects,
                ..Default::default()
            },
            side_effects: opts.side_effects,
            include_depth: 0,
        }
    }

    /// Parses one configuration text (a file, or file + stdin + options).
    fn parse_text(&mut self, text: &[u8]) -> Result<(), ConfigFileError> {
        self.ctx.reading_file = true;
        for (i, raw) in text.split(|&c| c == b'\n').enumerate() {
            let line_num = i + 1;
            let line = trim(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let argv = split_args(line).map_err(|_| {
                ConfigFileError::line(line_num, line, "Unbalanced quotes in configuration line")
            })?;
            if argv.is_empty() {
                continue;
            }
            let name = argv[0].to_ascii_lowercase();
            let fail = |msg: String| ConfigFileError::line(line_num, line, msg);

            if let Some(p) = lookup(&name) {
                let owned;
                let args: Vec<&[u8]> = if p.has(MULTI_ARG) {
                    owned = file_multi_args(&argv[1..]);
                    owned.iter().map(Vec::as_slice).collect()
                } else if argv.len() != 2 {
                    return Err(fail("wrong number of arguments".into()));
                } else {
                    vec![argv[1].as_slice()]
                };
                (p.set)(&mut self.config, &args, &mut self.ctx)
                    .map_err(|e| fail(e.into_owned()))?;
                continue;
            }
            if argv.len() == 2 && DEPRECATED.contains(&name.as_slice()) {
                continue;
            }
            let directive = || Directive {
                args: std::iter::once(name.clone())
                    .chain(argv[1..].iter().cloned())
                    .collect(),
                line_num,
                line: line.to_vec(),
            };
            let startup = &mut self.config.startup;
            match name.as_slice() {
                b"include" if argv.len() == 2 => {
                    if self.include_depth >= MAX_INCLUDE_DEPTH {
                        return Err(fail("Too many nested include directives".into()));
                    }
                    let nested = read_config_files(&argv[1])?;
                    self.include_depth += 1;
                    let result = self.parse_text(&nested);
                    self.include_depth -= 1;
                    result?;
                }
                b"rename-command" if argv.len() == 3 => startup.rename_commands.push(directive()),
                b"user" if argv.len() >= 2 => startup.users.push(directive()),
                b"loadmodule" if argv.len() >= 2 => startup.loadmodules.push(directive()),
                _ if name.contains(&b'.') => {
                    if argv.len() < 2 {
                        return Err(fail("Module config specified without value".into()));
                    }
                    let key = String::from_utf8_lossy(&name).into_owned();
                    let value = argv[1..]
                        .iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect::<Vec<_>>()
                        .join(" ");
                    match startup.module_configs.iter_mut().find(|(k, _)| *k == key) {
                        Some(entry) => entry.1 = value,
                        None => startup.module_configs.push((key, value)),
                    }
                }
                // A bare `sentinel` line is how sentinel mode is requested;
                // the server detects it before loading.
                b"sentinel" if argv.len() == 1 => {}
                b"sentinel" => {
                    return Err(fail("sentinel directive while not in sentinel mode".into()))
                }
                _ => return Err(fail("Bad directive or wrong number of arguments".into())),
            }
        }
        self.finish()
    }

    /// The checks Redis runs after each parsed text.
    fn finish(&mut self) -> Result<(), ConfigFileError> {
        let invalid = |message: String| ConfigFileError::Invalid {
            location: None,
            message,
        };
        if self.side_effects && !self.config.logfile.is_empty() {
            fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&self.config.logfile)
                .map_err(|e| invalid(format!("Can't open the log file: {}", strerror(&e))))?;
        }
        if self.config.cluster_enabled && self.config.replicaof.is_some() {
            return Err(invalid(
                "replicaof directive not allowed in cluster mode".into(),
            ));
        }
        self.config.normalize();
        self.ctx.reading_file = false;
        Ok(())
    }
}

fn trim(line: &[u8]) -> &[u8] {
    let is_trim = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|c| !is_trim(c)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|c| !is_trim(c))
        .map_or(start, |e| e + 1);
    &line[start..end]
}

/// Reads a configuration file, or the concatenation of all files matching a
/// wildcard pattern (no match is not an error).
fn read_config_files(path: &[u8]) -> Result<Vec<u8>, ConfigFileError> {
    let read = |p: &Path| {
        fs::read(p).map_err(|e| ConfigFileError::Open {
            path: p.to_string_lossy().into_owned(),
            reason: strerror(&e),
        })
    };
    if !path.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
        return read(Path::new(OsStr::from_bytes(path)));
    }
    let mut content = Vec::new();
    for file in expand_glob(path) {
        content.extend(read(&file)?);
    }
    Ok(content)
}

/// Filesystem wildcard expansion with `glob(3)` conventions: sorted results,
/// wildcards do not match a leading `.`, only existing paths are returned.
fn expand_glob(pattern: &[u8]) -> Vec<PathBuf> {
    let absolute = pattern.first() == Some(&b'/');
    let mut candidates: Vec<PathBuf> = vec![PathBuf::from(if absolute { "/" } else { "" })];
    let components: Vec<&[u8]> = pattern
        .split(|&c| c == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    for component in components {
        let wild = component.iter().any(|c| matches!(c, b'*' | b'?' | b'['));
        let mut next = Vec::new();
        for base in &candidates {
            if !wild {
                next.push(base.join(OsStr::from_bytes(component)));
                continue;
            }
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            // glob(3)'s `[!...]` is the matcher's `[^...]`.
            let pat = component
                .windows(2)
                .enumerate()
                .fold(component.to_vec(), |mut p, (i, w)| {
                    if w == b"[!" {
                        p[i + 1] = b'^';
                    }
                    p
                });
            let mut names: Vec<Vec<u8>> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().as_bytes().to_vec())
                .filter(|n| {
                    (n.first() != Some(&b'.') || component.first() == Some(&b'.'))
                        && glob_match(&pat, n, false)
                })
                .collect();
            names.sort();
            next.extend(names.iter().map(|n| base.join(OsStr::from_bytes(n))));
        }
        candidates = next;
    }
    candidates.retain(|p| !p.as_os_str().is_empty() && fs::metadata(p).is_ok());
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cl(args: &[&str]) -> CommandLine {
        parse_command_line(args)
    }

    fn opts(args: &[&str]) -> String {
        String::from_utf8(cl(args).options).unwrap()
    }

    #[test]
    fn command_line_like_redis_main() {
        assert_eq!(opts(&["--port", "7777"]), "port \"7777\" ");
        assert_eq!(
            opts(&["--port", "7777", "--save", ""]),
            "port \"7777\" \nsave \"\" "
        );
        assert_eq!(opts(&["--save"]), "save \"\"");
        assert_eq!(
            opts(&["--save", "--loglevel", "verbose"]),
            "save \"\"\nloglevel \"verbose\" "
        );
        assert_eq!(opts(&["--port"]), "port ");
        assert_eq!(opts(&["--port", "6379", "6380"]), "port \"6379\" \"6380\" ");
        assert_eq!(
            opts(&["--port", "--loglevel", "verbose"]),
            "port \"--loglevel\" \"verbose\" "
        );
        assert_eq!(
            opts(&["--maxmemory 700mb", "--maxmemory-policy volatile-lru"]),
            "maxmemory 700mb \nmaxmemory-policy volatile-lru "
        );
        assert_eq!(
            opts(&[
                "--proc-title-template",
                "--save",
                "--save",
                "",
                "--loglevel",
                "verbose"
            ]),
            "proc-title-template \"--save\" \nsave \"\" \nloglevel \"verbose\" "
        );
        assert_eq!(
            opts(&["--replicaof", "--127.0.0.1", "--abc"]),
            "replicaof \"--127.0.0.1\" \nabc "
        );
        assert_eq!(
            opts(&["--sentinel", "--port", "1"]),
            "sentinel \nport \"1\" "
        );
    }

    #[test]
    fn command_line_config_file_and_stdin() {
        let c = cl(&["/etc/redis.conf", "--port", "1"]);
        assert_eq!(c.config_file.as_deref(), Some("/etc/redis.conf"));
        assert!(!c.read_stdin);
        let c = cl(&["-", "--port", "1"]);
        assert!(c.read_stdin && c.config_file.is_none());
        let c = cl(&["x.conf", "--port", "1", "-"]);
        assert!(c.read_stdin);
        assert!(c.config_file.unwrap().ends_with("/x.conf"));
        // A '-' in the middle is a value.
        assert_eq!(opts(&["--port", "-", "--x", "y"]), "port \"-\" \nx \"y\" ");
        // Values without a preceding option still become text.
        assert_eq!(
            opts(&["x.conf", "loglevel", "verbose"]),
            "\"loglevel\" \"verbose\" "
        );
    }

    #[test]
    fn absolute_paths() {
        assert_eq!(absolute_path(b"/a/b"), "/a/b");
        assert_eq!(absolute_path(b"  /a/b \n"), "/a/b");
        let cwd = std::env::current_dir().unwrap();
        let cwd = cwd.to_str().unwrap();
        assert_eq!(absolute_path(b"x.conf"), format!("{cwd}/x.conf"));
        let parent = Path::new(cwd).parent().unwrap().to_str().unwrap();
        let expect = if parent == "/" {
            "/x.conf".to_string()
        } else {
            format!("{parent}/x.conf")
        };
        assert_eq!(absolute_path(b"../x.conf"), expect);
    }

    #[test]
    fn error_display() {
        let e = ConfigFileError::Invalid {
            location: Some((3, "port abc".into())),
            message: "argument couldn't be parsed into an integer".into(),
        };
        assert_eq!(
            e.to_string(),
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n>>> 'port abc'\nargument couldn't be parsed into an integer\n"
        );
        let e = ConfigFileError::Invalid {
            location: None,
            message: "Can't open the log file: No such file or directory".into(),
        };
        assert_eq!(e.to_string(), "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nCan't open the log file: No such file or directory\n");
        let e = ConfigFileError::Open {
            path: "/nonexistent.conf".into(),
            reason: "No such file or directory".into(),
        };
        assert_eq!(
            e.to_string(),
            "Fatal error, can't open config file '/nonexistent.conf': No such file or directory"
        );
    }
}
