//! Tests of the configuration subsystem against behaviour captured from a
//! real Redis 7.0.15 (`testdata/`): defaults, `CONFIG GET` semantics, loading
//! Redis's own `redis.conf`, every error message, `CONFIG SET` atomicity and
//! `CONFIG REWRITE` output.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::*;

/// Tests that depend on or change the working directory hold this lock.
static CWD_LOCK: Mutex<()> = Mutex::new(());

fn cwd_lock() -> std::sync::MutexGuard<'static, ()> {
    CWD_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const NO_SIDE_EFFECTS: LoadOptions = LoadOptions {
    side_effects: false,
};

fn parse(text: &str) -> Result<Config, ConfigFileError> {
    Config::from_text(text.as_bytes(), &NO_SIDE_EFFECTS)
}

fn get(c: &Config, name: &str) -> String {
    String::from_utf8(c.get_value(name.as_bytes()).unwrap()).unwrap()
}

fn fixture(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn no_apply() -> impl FnMut(&Config, &Config, Apply) -> Result<(), String> {
    |_, _, _| Ok(())
}

fn set(c: &mut Config, pairs: &[(&str, &str)]) -> Result<(), String> {
    let pairs: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
        .collect();
    c.set(&pairs, &SetOptions::default(), &mut no_apply())
}

// ---------------------------------------------------------------------------
// defaults and CONFIG GET

#[test]
fn defaults_equal_real_redis_config_get_all() {
    let _g = cwd_lock();
    let mut expected = fixture(include_str!("testdata/redis-7.0.15-config-get-all.tsv"));
    // The fixture server ran with `--port 27982` from /tmp.
    expected.insert("port".into(), "6379".into());
    expected.insert(
        "dir".into(),
        std::env::current_dir()
            .unwrap()
            .to_string_lossy()
            .into_owned(),
    );

    let c = Config::default();
    let got: BTreeMap<String, String> = c
        .get(&[b"*"])
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8(v).unwrap()))
        .collect();
    assert_eq!(got.len(), expected.len());
    for (k, v) in &expected {
        assert_eq!(got.get(k), Some(v), "default of {k}");
    }
    for (k, v) in fixture(include_str!("testdata/redis-7.0.15-config-get-hidden.tsv")) {
        assert_eq!(get(&c, &k), v, "default of hidden {k}");
        assert!(!got.contains_key(&k), "hidden {k} returned by a pattern");
    }
}

#[test]
fn config_get_names_aliases_and_duplicates() {
    let c = Config::default();
    // Exact lookups are case-insensitive and keep the caller's spelling.
    assert_eq!(
        c.get(&[b"MAXMEMORY"]),
        vec![("MAXMEMORY".to_string(), b"0".to_vec())]
    );
    assert_eq!(
        c.get(&[b"Slaveof"]),
        vec![("Slaveof".to_string(), Vec::new())]
    );
    assert!(c.get(&[b"nosuchconfig"]).is_empty());

    // introspection.tcl "CONFIG GET multiple args"
    let res = c.get(&[b"maxmemory", b"maxmemory*", b"bind", b"*of"]);
    let names: Vec<&str> = res.iter().map(|(k, _)| k.as_str()).collect();
    let mut dedup = names.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), names.len());
    for n in [
        "slaveof",
        "replicaof",
        "maxmemory",
        "maxmemory-samples",
        "maxmemory-clients",
        "bind",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    // Case-insensitive de-duplication between exact and glob matches.
    let res = c.get(&[b"MAXMEMORY", b"maxmemory", b"maxmem*"]);
    assert_eq!(
        res.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("maxmemory"))
            .count(),
        1
    );
    // Patterns match aliases too.
    let res = c.get(&[b"hash-max-zip*"]);
    assert_eq!(res.len(), 2);
    // Hidden configs need an exact name.
    assert!(c.get(&[b"key-load-*"]).is_empty());
    assert_eq!(c.get(&[b"key-load-delay"]).len(), 1);
    assert_eq!(Config::all_names().count(), 192 + 6);
}

#[test]
fn value_formats() {
    let mut c = Config::default();
    set(&mut c, &[("client-output-buffer-limit", "normal 1k 2mb 3")]).unwrap();
    assert_eq!(
        get(&c, "client-output-buffer-limit"),
        "normal 1000 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    set(&mut c, &[("notify-keyspace-events", "Elgm$")]).unwrap();
    assert_eq!(get(&c, "notify-keyspace-events"), "g$lEm");
    set(&mut c, &[("notify-keyspace-events", "KEA")]).unwrap();
    assert_eq!(get(&c, "notify-keyspace-events"), "AKE");
    set(&mut c, &[("notify-keyspace-events", "An")]).unwrap();
    assert_eq!(get(&c, "notify-keyspace-events"), "A");
    set(&mut c, &[("maxmemory-clients", "5%")]).unwrap();
    assert_eq!(get(&c, "maxmemory-clients"), "5%");
    assert_eq!(c.maxmemory_clients, -5);
    set(&mut c, &[("maxmemory", "700mb")]).unwrap();
    assert_eq!(get(&c, "maxmemory"), "734003200");
    assert_eq!(c.maxmemory_clients_bytes(), 734003200 / 20);
    set(&mut c, &[("maxmemory", "99999999999999999999999")]).unwrap();
    assert_eq!(get(&c, "maxmemory"), "18446744073709551615");
    set(&mut c, &[("maxmemory", "kb")]).unwrap();
    assert_eq!(get(&c, "maxmemory"), "0");
    set(&mut c, &[("oom-score-adj", "relative")]).unwrap();
    assert_eq!(get(&c, "oom-score-adj"), "yes");
    set(&mut c, &[("shutdown-on-sigint", "nosave now force")]).unwrap();
    assert_eq!(get(&c, "shutdown-on-sigint"), "nosave now force");
    set(&mut c, &[("shutdown-on-sigint", "save default")]).unwrap();
    assert_eq!(get(&c, "shutdown-on-sigint"), "save");
    set(
        &mut c,
        &[("latency-tracking-info-percentiles", "0.0 50.0 100.0")],
    )
    .unwrap();
    assert_eq!(get(&c, "latency-tracking-info-percentiles"), "0 50 100");
    set(&mut c, &[("save", "100 1 200 2")]).unwrap();
    assert_eq!(get(&c, "save"), "100 1 200 2");
    set(&mut c, &[("save", "")]).unwrap();
    assert_eq!(get(&c, "save"), "");
    set(&mut c, &[("bind", "127.0.0.1 ::1")]).unwrap();
    assert_eq!(get(&c, "bind"), "127.0.0.1 ::1");
    set(&mut c, &[("hz", "1000")]).unwrap();
    assert_eq!(get(&c, "hz"), "500");
    set(&mut c, &[("hz", "0")]).unwrap();
    assert_eq!(get(&c, "hz"), "1");
    set(&mut c, &[("busy-reply-threshold", "10")]).unwrap();
    assert_eq!(get(&c, "lua-time-limit"), "10");
    set(&mut c, &[("requirepass", "p\0ss")]).unwrap();
    assert_eq!(c.requirepass.as_deref(), Some(&b"p\0ss"[..]));
    set(&mut c, &[("requirepass", "")]).unwrap();
    assert_eq!(c.requirepass, None);
    let c = parse("unixsocketperm 700\nreplicaof 10.0.0.1 6380\n").unwrap();
    assert_eq!(get(&c, "unixsocketperm"), "700");
    assert_eq!(c.unixsocketperm, 0o700);
    assert_eq!(get(&c, "replicaof"), "10.0.0.1 6380");
    assert_eq!(get(&c, "slaveof"), "10.0.0.1 6380");
}

// ---------------------------------------------------------------------------
// CONFIG SET

#[test]
fn config_set_error_messages() {
    let mut c = Config::default();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("foo", "bar")], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&[("foo", "bar"), ("daemonize", "yes")], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&[("daemonize", "yes"), ("foo", "bar")], "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
        (&[("DAEMONIZE", "yes")], "ERR CONFIG SET failed (possibly related to argument 'DAEMONIZE') - can't set immutable config"),
        (&[("maxmemory", "1"), ("MAXMEMORY", "2")], "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"),
        (&[("dir", "/tmp")], "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"),
        (&[("dbfilename", "x")], "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"),
        (&[("SLAVE-PRIORITY", "abc")], "ERR CONFIG SET failed (possibly related to argument 'slave-priority') - argument couldn't be parsed into an integer"),
        (&[("maxmemory", "-1")], "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
        (&[("hz", "-1")], "ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be between 0 and 2147483647 inclusive"),
        (&[("maxmemory-clients", "200%")], "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"),
        (&[("maxmemory-clients", "-5%")], "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value"),
        (&[("loglevel", "foo")], "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"),
        (&[("shutdown-on-sigint", "save nosave")], "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - shutdown options SAVE and NOSAVE can't be used simultaneously"),
        (&[("shutdown-on-sigint", "")], "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - argument(s) must be one of the following: default, save, nosave, now, force"),
        (&[("port", "abc")], "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer"),
        (&[("port", "70000")], "ERR CONFIG SET failed (possibly related to argument 'port') - argument must be between 0 and 65535 inclusive"),
        (&[("repl-backlog-size", "18446744073709551615")], "ERR CONFIG SET failed (possibly related to argument 'repl-backlog-size') - argument must be between 1 and 9223372036854775807 inclusive"),
        (&[("maxclients", "0")], "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive"),
        (&[("save", "100")], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
        (&[("save", "100 -1")], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
        (&[("save", "0 1")], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
        (&[("save", " 100 1")], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
        (&[("save", "100 1 ")], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
        (&[("client-output-buffer-limit", "master 1 1 1")], "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration."),
        (&[("client-output-buffer-limit", "normal 1 1")], "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration."),
        (&[("client-output-buffer-limit", "normal 1 1 x")], "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration."),
        (&[("oom-score-adj-values", "1 2")], "ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - wrong number of arguments"),
        (&[("oom-score-adj-values", "1 2 3000")], "ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - Invalid oom-score-adj-values, elements must be between -2000 and 2000."),
        (&[("notify-keyspace-events", "Kq")], "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        (&[("latency-tracking-info-percentiles", "1 a")], "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - Invalid latency-tracking-info-percentiles parameters"),
        (&[("latency-tracking-info-percentiles", "101")], "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"),
        (&[("proc-title-template", "{foo}")], "ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - template format is invalid or contains unknown variables"),
        (&[("proc-title-template", "{title}")], "ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - template format is invalid or contains unknown variables"),
        (&[("proc-title-template", "")], "ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - template format is invalid or contains unknown variables"),
        (&[("cluster-announce-hostname", "a_b")], "ERR CONFIG SET failed (possibly related to argument 'cluster-announce-hostname') - Hostnames may only contain alphanumeric characters, hyphens or dots"),
        (&[("unixsocketperm", "777")], "ERR CONFIG SET failed (possibly related to argument 'unixsocketperm') - can't set immutable config"),
        (&[("activedefrag", "yes")], "ERR CONFIG SET failed (possibly related to argument 'activedefrag') - Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"),
        (&[("daemonize", "maybe")], "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
        (&[("appendonly", "maybe")], "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'"),
        (&[("list-max-ziplist-entries", "5")], "ERR Unknown option or number of arguments for CONFIG SET - 'list-max-ziplist-entries'"),
    ];
    let before = c.clone();
    for (pairs, expected) in cases {
        assert_eq!(set(&mut c, pairs).unwrap_err(), *expected, "{pairs:?}");
        assert_eq!(c, before, "config changed by failed {pairs:?}");
    }
    // Like Redis 7.0, a name and its alias are distinct entries: no duplicate error.
    set(
        &mut c,
        &[
            ("hash-max-listpack-entries", "1"),
            ("hash-max-ziplist-entries", "2"),
        ],
    )
    .unwrap();
    assert_eq!(c.hash_max_listpack_entries, 2);
}

#[test]
fn config_set_protected_and_loading() {
    let mut c = parse("enable-protected-configs local\n").unwrap();
    let pairs: [(&[u8], &[u8]); 1] = [(b"dbfilename", b"other.rdb")];
    let remote = SetOptions {
        client_is_local: false,
        loading: false,
    };
    assert!(c
        .set(&pairs, &remote, &mut no_apply())
        .unwrap_err()
        .contains("can't set protected config"));
    let local = SetOptions {
        client_is_local: true,
        loading: false,
    };
    c.set(&pairs, &local, &mut no_apply()).unwrap();
    assert_eq!(c.dbfilename, "other.rdb");
    let loading = SetOptions {
        client_is_local: true,
        loading: true,
    };
    let deny: [(&[u8], &[u8]); 2] = [(b"loglevel", b"debug"), (b"appendonly", b"yes")];
    assert_eq!(
        c.set(&deny, &loading, &mut no_apply()).unwrap_err(),
        LOADING_ERROR
    );
    let ok: [(&[u8], &[u8]); 1] = [(b"loglevel", b"debug")];
    c.set(&ok, &loading, &mut no_apply()).unwrap();
    assert_eq!(c.loglevel, LogLevel::Debug);
    assert!(Config::is_sensitive(b"REQUIREPASS") && Config::is_sensitive(b"masteruser"));
    assert!(!Config::is_sensitive(b"maxmemory"));
}

#[test]
fn config_set_rollback_on_set_error() {
    // introspection.tcl "CONFIG SET rollback on set error"
    let mut c = Config::default();
    set(&mut c, &[("maxmemory", "10000002")]).unwrap();
    let before = c.clone();
    let err = set(
        &mut c,
        &[
            ("maxmemory", "10000001"),
            ("maxmemory-clients", "200%"),
            ("client-query-buffer-limit", "invalid"),
        ],
    )
    .unwrap_err();
    assert_eq!(err, "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100");
    assert_eq!(c, before);
    assert_eq!(get(&c, "maxmemory"), "10000002");
}

#[test]
fn config_set_rollback_on_apply_error() {
    // introspection.tcl "CONFIG SET rollback on apply error"
    let mut c = Config::default();
    let before = c.clone();
    let mut calls: Vec<(Apply, i64, u64)> = Vec::new();
    let pairs: Vec<(&[u8], &[u8])> = vec![
        (b"oom-score-adj", b"yes"),
        (b"oom-score-adj-values", b"1 1 1"),
        (b"maxmemory", b"10000001"),
        (b"port", b"7000"),
        (b"client-query-buffer-limit", b"10m"),
        (b"loglevel", b"notice"), // unchanged: no action
    ];
    let err = c
        .set(
            &pairs,
            &SetOptions::default(),
            &mut |cur: &Config, _old: &Config, action| {
                calls.push((action, cur.port, cur.maxmemory));
                if action == Apply::Port && cur.port == 7000 {
                    Err("Unable to listen on this port. Check server logs.".into())
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
    assert_eq!(err, "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.");
    assert_eq!(c, before);
    // Applied once each (oom-score-adj and -values share one action), then
    // every collected action is re-applied with the restored values.
    assert_eq!(
        calls,
        vec![
            (Apply::OomScoreAdj, 7000, 10000001),
            (Apply::Maxmemory, 7000, 10000001),
            (Apply::Port, 7000, 10000001),
            (Apply::OomScoreAdj, 6379, 0),
            (Apply::Maxmemory, 6379, 0),
            (Apply::Port, 6379, 0),
        ]
    );
}

#[test]
fn config_set_sanity_round_trip() {
    // introspection.tcl "CONFIG sanity": setting every mutable config to its
    // own CONFIG GET value changes nothing.
    let skip = [
        "dir",
        "dbfilename",
        "bind",
        "port",
        "tls-port",
        "oom-score-adj",
        "oom-score-adj-values",
    ];
    let mut c = parse("maxmemory-clients 10%\nsave 100 10\nnotify-keyspace-events KEA\n").unwrap();
    let before = c.clone();
    for (k, v) in c.clone().get(&[b"*"]) {
        let p = lookup(k.as_bytes()).unwrap();
        if p.has(IMMUTABLE) || skip.contains(&k.as_str()) {
            continue;
        }
        let pairs: [(&[u8], &[u8]); 1] = [(k.as_bytes(), &v)];
        c.set(&pairs, &SetOptions::default(), &mut no_apply())
            .unwrap_or_else(|e| panic!("{k}: {e}"));
    }
    assert_eq!(c, before);
}

#[test]
fn config_set_dir_changes_working_directory() {
    let _g = cwd_lock();
    let orig = std::env::current_dir().unwrap();
    let tmp = std::env::temp_dir().canonicalize().unwrap();
    let mut c = parse("enable-protected-configs yes\n").unwrap();
    let pairs: [(&[u8], &[u8]); 1] = [(b"dir", tmp.to_str().unwrap().as_bytes())];
    c.set(&pairs, &SetOptions::default(), &mut no_apply())
        .unwrap();
    assert_eq!(std::env::current_dir().unwrap(), tmp);
    assert_eq!(get(&c, "dir"), tmp.to_str().unwrap());
    // A later failure restores the previous directory.
    let pairs: [(&[u8], &[u8]); 2] = [(b"dir", orig.to_str().unwrap().as_bytes()), (b"port", b"x")];
    assert!(c
        .set(&pairs, &SetOptions::default(), &mut no_apply())
        .is_err());
    assert_eq!(std::env::current_dir().unwrap(), tmp);
    let pairs: [(&[u8], &[u8]); 1] = [(b"dir", b"/nonexistent-redust-dir")];
    assert_eq!(
        c.set(&pairs, &SetOptions::default(), &mut no_apply())
            .unwrap_err(),
        "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
    );
    std::env::set_current_dir(&orig).unwrap();
}

// ---------------------------------------------------------------------------
// loading

#[test]
fn load_redis_conf_unmodified() {
    let c = Config::from_text(include_bytes!("testdata/redis.conf"), &NO_SIDE_EFFECTS).unwrap();
    assert_eq!(c.bind, ["127.0.0.1", "-::1"]);
    assert!(c.daemonize);
    assert_eq!(c.pidfile.as_deref(), Some("/run/redis/redis-server.pid"));
    assert_eq!(c.dir, "/var/lib/redis");
    assert_eq!(c.save, Config::default().save);
    assert_eq!(c.client_output_buffer_limit, DEFAULT_OBUF_LIMITS);
    assert_eq!(c.proc_title_template, DEFAULT_PROC_TITLE_TEMPLATE);
    assert!(c.jemalloc_bg_thread);
    // Debian's installed file, when present.
    if let Ok(text) = std::fs::read("/etc/redis/redis.conf") {
        Config::from_text(&text, &NO_SIDE_EFFECTS).unwrap();
    }
}

#[test]
fn load_error_messages_match_redis() {
    let cases: &[(&str, &str)] = &[
        ("port abc", "argument couldn't be parsed into an integer"),
        ("foo bar", "Bad directive or wrong number of arguments"),
        ("port 1 2", "wrong number of arguments"),
        ("port", "wrong number of arguments"),
        ("save \"abc", "Unbalanced quotes in configuration line"),
        (
            "loglevel foo",
            "argument(s) must be one of the following: debug, verbose, notice, warning",
        ),
        ("daemonize maybe", "argument must be 'yes' or 'no'"),
        ("maxmemory -1", "argument must be a memory value"),
        (
            "sentinel monitor x",
            "sentinel directive while not in sentinel mode",
        ),
        (
            "bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
            "Too many bind addresses specified.",
        ),
        ("my.mod", "Module config specified without value"),
        (
            "unixsocketperm 999",
            "argument couldn't be parsed as an octal number",
        ),
        (
            "unixsocketperm 1000",
            "argument must be between 0 and 777 inclusive",
        ),
        ("replicaof 1.2.3.4 x", "Invalid master port"),
        ("replicaof 1.2.3.4", "wrong number of arguments"),
        ("include", "Bad directive or wrong number of arguments"),
        (
            "rename-command a",
            "Bad directive or wrong number of arguments",
        ),
        (
            "list-max-ziplist-entries 1 2",
            "Bad directive or wrong number of arguments",
        ),
        (
            "dbfilename a/b",
            "dbfilename can't be a path, just a filename",
        ),
        ("appendfilename \"\"", "appendfilename can't be empty"),
        (
            "appenddirname a/b",
            "appenddirname can't be a path, just a dirname",
        ),
        (
            "shutdown-on-sigint",
            "argument(s) must be one of the following: default, save, nosave, now, force",
        ),
    ];
    for (line, message) in cases {
        let text = format!("# c\n\n  {line}  \n");
        let err = parse(&text).unwrap_err();
        assert_eq!(
            err,
            ConfigFileError::Invalid {
                location: Some((3, line.to_string())),
                message: message.to_string()
            },
            "{line}"
        );
    }
    // Checks after the last line have no location.
    let err = parse("cluster-enabled yes\nreplicaof 1.2.3.4 1\n").unwrap_err();
    assert_eq!(err.to_string(), "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nreplicaof directive not allowed in cluster mode\n");
    let err = Config::from_text(
        b"logfile /nonexistent-redust/x.log",
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nCan't open the log file: No such file or directory\n");
    let err = parse("include /nonexistent-redust.conf").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Fatal error, can't open config file '/nonexistent-redust.conf': No such file or directory"
    );
}

#[test]
fn load_multi_arg_lines_and_directives() {
    let c = parse(
        "save \"900 1 300 10\"\nclient-output-buffer-limit normal 0 0 0 replica 1gb 512mb 30\n\
         shutdown-on-sigterm \"nosave force\"\nbind a b c\nrename-command flushdb badger\n\
         RENAME-COMMAND config \"\"\nuser alice on >pw ~* +@all\nloadmodule /x.so a b\n\
         m.x 1 2\nm.x 3\nlist-max-ziplist-entries 5\nlua-replicate-commands yes\nsentinel\n\
         hash-max-ziplist-entries 20\nhash-max-listpack-entries 21\nhz 1000\n",
    )
    .unwrap();
    assert_eq!(get(&c, "save"), "900 1 300 10");
    assert_eq!(c.client_output_buffer_limit[1].hard_limit_bytes, 1 << 30);
    assert_eq!(c.client_output_buffer_limit[1].soft_limit_seconds, 30);
    assert_eq!(get(&c, "shutdown-on-sigterm"), "nosave force");
    assert_eq!(c.bind, ["a", "b", "c"]);
    let renames: Vec<Vec<Vec<u8>>> = c
        .startup
        .rename_commands
        .iter()
        .map(|d| d.args.clone())
        .collect();
    assert_eq!(
        renames,
        vec![
            vec![
                b"rename-command".to_vec(),
                b"flushdb".to_vec(),
                b"badger".to_vec()
            ],
            vec![b"rename-command".to_vec(), b"config".to_vec(), b"".to_vec()],
        ]
    );
    assert_eq!(c.startup.rename_commands[1].line_num, 6);
    assert_eq!(c.startup.users.len(), 1);
    assert_eq!(c.startup.loadmodules[0].args.len(), 4);
    assert_eq!(
        c.startup.module_configs,
        vec![("m.x".to_string(), "3".to_string())]
    );
    assert_eq!(c.hash_max_listpack_entries, 21);
    assert_eq!(c.hz, 500);
    let err = ConfigFileError::at(
        &c.startup.rename_commands[0],
        "No such command in rename-command",
    );
    assert_eq!(
        err.to_string(),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 5\n>>> 'rename-command flushdb badger'\nNo such command in rename-command\n"
    );
}

/// Loads `default.conf` of the Redis test suite plus command line args.
fn load_test_default(args: &[&str]) -> Result<Config, ConfigFileError> {
    let argv: Vec<&str> = std::iter::once("default.conf")
        .chain(args.iter().copied())
        .collect();
    let cl = parse_command_line(&argv);
    let mut text = include_bytes!("testdata/test-default.conf").to_vec();
    text.push(b'\n');
    text.extend_from_slice(&cl.options);
    Config::from_text(&text, &NO_SIDE_EFFECTS)
}

#[test]
fn save_special_cases() {
    // introspection.tcl "CONFIG save params special case handled properly"
    assert_eq!(
        get(&parse("loglevel verbose").unwrap(), "save"),
        "3600 1 300 100 60 10000"
    );
    assert_eq!(get(&parse("save 100 100").unwrap(), "save"), "100 100");
    assert_eq!(get(&load_test_default(&[]).unwrap(), "save"), "900 1");
    assert_eq!(
        get(
            &load_test_default(&["--save", "100", "100"]).unwrap(),
            "save"
        ),
        "900 1 100 100"
    );
    assert_eq!(
        get(&load_test_default(&["--save", ""]).unwrap(), "save"),
        ""
    );
    assert_eq!(get(&parse("save 900 1\nsave \"\"\n").unwrap(), "save"), "");
    assert_eq!(
        get(&parse("save \"\"\nsave 100 1\n").unwrap(), "save"),
        "100 1"
    );
    for args in [
        &["--save", "--loglevel", "verbose"][..],
        &["--loglevel", "verbose", "--save"],
        &["--save", "", "--loglevel", "verbose"],
        &["--loglevel", "verbose", "--save", ""],
    ] {
        let c = load_test_default(args).unwrap();
        assert_eq!(
            (get(&c, "save").as_str(), c.loglevel),
            ("", LogLevel::Verbose),
            "{args:?}"
        );
    }
    let c = load_test_default(&[
        "--proc-title-template",
        "--save",
        "--save",
        "",
        "--loglevel",
        "verbose",
    ])
    .unwrap();
    assert_eq!(
        (c.proc_title_template.as_str(), get(&c, "save").as_str()),
        ("--save", "")
    );
}

#[test]
fn command_line_cases_from_introspection_tcl() {
    let fails = |args: &[&str], line: &str, msg: &str| {
        let err = load_test_default(args).unwrap_err().to_string();
        assert!(
            err.contains(&format!(">>> '{line}'\n")) && err.contains(msg),
            "{args:?}: {err}"
        );
    };
    fails(&["--port"], "port", "wrong number of arguments");
    fails(
        &["--port", "6380", "--loglevel"],
        "loglevel",
        "wrong number of arguments",
    );
    fails(
        &["--port", "6379", "6380"],
        "port \"6379\" \"6380\"",
        "wrong number of arguments",
    );
    fails(
        &["--port", "--loglevel", "verbose"],
        "port \"--loglevel\" \"verbose\"",
        "wrong number of arguments",
    );
    fails(
        &["--port", "--bla", "--loglevel", "verbose"],
        "port \"--bla\"",
        "argument couldn't be parsed into an integer",
    );
    fails(
        &["--logfile", "--my--log--file", "--loglevel", "--bla"],
        "loglevel \"--bla\"",
        "argument(s) must be one of the following",
    );
    fails(
        &["--shutdown-on-sigint"],
        "shutdown-on-sigint",
        "argument(s) must be one of the following",
    );
    fails(
        &["--shutdown-on-sigint", "now force", "--shutdown-on-sigterm"],
        "shutdown-on-sigterm",
        "argument(s) must be one of the following",
    );
    fails(
        &["--replicaof", "127.0.0.1", "abc"],
        "replicaof \"127.0.0.1\" \"abc\"",
        "Invalid master port",
    );
    fails(
        &["--replicaof", "--127.0.0.1", "abc"],
        "replicaof \"--127.0.0.1\" \"abc\"",
        "Invalid master port",
    );
    fails(
        &["--replicaof", "--127.0.0.1", "--abc"],
        "replicaof \"--127.0.0.1\"",
        "wrong number of arguments",
    );

    let c = load_test_default(&["--maxmemory 700mb", "--maxmemory-policy volatile-lru"]).unwrap();
    assert_eq!(
        (c.maxmemory, c.maxmemory_policy),
        (734003200, MaxmemoryPolicy::VolatileLru)
    );
    let c = load_test_default(&[
        "loglevel",
        "verbose",
        "--maxmemory '700mb'",
        "--maxmemory-policy 'volatile-lru'",
    ])
    .unwrap();
    assert_eq!((c.maxmemory, c.loglevel), (734003200, LogLevel::Verbose));
    let c = load_test_default(&[
        "--proc-title-template",
        "--my--title--template",
        "--loglevel",
        "verbose",
    ])
    .unwrap();
    assert_eq!(c.proc_title_template, "--my--title--template");
    let c = load_test_default(&[
        "--proc-title-template --my--title--template",
        "--loglevel verbose",
    ])
    .unwrap();
    assert_eq!(c.proc_title_template, "--my--title--template");
    let c = load_test_default(&[
        "--shutdown-on-sigint",
        "nosave",
        "force",
        "now",
        "--shutdown-on-sigterm",
        "nosave force",
    ])
    .unwrap();
    assert_eq!(get(&c, "shutdown-on-sigint"), "nosave now force");
    assert_eq!(get(&c, "shutdown-on-sigterm"), "nosave force");
}

#[test]
fn include_files_and_globs() {
    let _g = cwd_lock();
    let dir = std::env::temp_dir().join(format!("redust-config-include-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::write(dir.join("conf.d/a.conf"), "maxmemory 1mb\n").unwrap();
    std::fs::write(dir.join("conf.d/b.conf"), "maxmemory 2mb\nport 1234\n").unwrap();
    std::fs::write(dir.join("conf.d/.hidden.conf"), "port 1\n").unwrap();
    std::fs::write(dir.join("bad.conf"), "# x\nport abc\n").unwrap();
    let d = dir.to_str().unwrap();
    let c = parse(&format!("include {d}/conf.d/*.conf\n")).unwrap();
    assert_eq!((c.maxmemory, c.port), (2 << 20, 1234));
    let c = parse(&format!("include {d}/nomatch/*.conf\nport 5\n")).unwrap();
    assert_eq!(c.port, 5);
    // Errors in an included file report that file's line.
    let err = parse(&format!("loglevel debug\ninclude {d}/bad.conf\n")).unwrap_err();
    assert_eq!(
        err,
        ConfigFileError::Invalid {
            location: Some((2, "port abc".into())),
            message: "argument couldn't be parsed into an integer".into()
        }
    );
    // Relative includes are relative to the working directory.
    let orig = std::env::current_dir().unwrap();
    std::env::set_current_dir(&dir).unwrap();
    let c = parse("include conf.d/a.conf\n");
    std::env::set_current_dir(&orig).unwrap();
    assert_eq!(c.unwrap().maxmemory, 1 << 20);
    // An include cycle is an error, not a stack overflow.
    std::fs::write(dir.join("loop.conf"), format!("include {d}/loop.conf\n")).unwrap();
    let err = parse(&format!("include {d}/loop.conf\n")).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("Too many nested include directives\n"),
        "{err}"
    );
    // Config::load with a file, options and the absolute configfile path.
    let path = dir.join("conf.d/b.conf");
    let c = Config::load_with(
        Some(path.to_str().unwrap()),
        b"port \"4321\" ",
        false,
        &NO_SIDE_EFFECTS,
    )
    .unwrap();
    assert_eq!((c.maxmemory, c.port), (2 << 20, 4321));
    assert_eq!(c.configfile.as_deref(), path.to_str());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------
// CONFIG REWRITE

const USERS: &[String] = &[];

fn rewrite_users() -> Vec<String> {
    vec![
        "default on #fbc1a9f858ea9e177916964bd88c3d37b91a1e84412765e29950777f265c4b75 ~* &* +@all"
            .to_string(),
    ]
}

/// Compares with a file produced by real Redis: identical up to the rewrite
/// signature; the appended options (in Redis's hash order) as a multiset.
fn assert_rewrite_eq(ours: &[u8], redis: &str) {
    let ours = String::from_utf8(ours.to_vec()).unwrap();
    let split = |s: &str| -> (String, Vec<String>) {
        match s.find(REWRITE_SIGNATURE) {
            Some(i) => {
                let mut rest: Vec<String> = s[i..]
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect();
                rest.sort();
                (s[..i].to_string(), rest)
            }
            None => (s.to_string(), Vec::new()),
        }
    };
    assert_eq!(split(&ours), split(redis), "ours:\n{ours}\nredis:\n{redis}");
}

fn rewrite_scenario_config() -> Config {
    // The real server ran `redis-server rw.conf --daemonize no --logfile /tmp/rw/log`.
    let cl = parse_command_line(&["rw.conf", "--daemonize", "no", "--logfile", "/tmp/rw/log"]);
    let mut text = include_bytes!("testdata/rewrite-input.conf").to_vec();
    text.push(b'\n');
    text.extend_from_slice(&cl.options);
    let mut c = Config::from_text(&text, &NO_SIDE_EFFECTS).unwrap();
    for (k, v) in [
        ("maxmemory", "0"),
        ("loglevel", "notice"),
        ("timeout", "100"),
        ("maxmemory-clients", "10%"),
        ("notify-keyspace-events", "KEA"),
        ("client-output-buffer-limit", "pubsub 1mb 0 0"),
        ("save", "100 1"),
        ("slave-priority", "100"),
        ("masterauth", "a\"b"),
    ] {
        set(&mut c, &[(k, v)]).unwrap();
    }
    c
}

#[test]
fn rewrite_matches_real_redis() {
    let users = rewrite_users();
    let extras = RewriteExtras {
        users: Some(&users),
        ..Default::default()
    };
    let mut c = rewrite_scenario_config();
    let out = c.rewrite_content(include_bytes!("testdata/rewrite-input.conf"), &extras);
    assert_rewrite_eq(&out, include_str!("testdata/rewrite-expected1.conf"));

    set(&mut c, &[("save", "")]).unwrap();
    let out = c.rewrite_content(include_bytes!("testdata/rewrite-expected1.conf"), &extras);
    assert_rewrite_eq(&out, include_str!("testdata/rewrite-expected2.conf"));

    let force = RewriteExtras {
        force_all: true,
        ..extras
    };
    let out = c.rewrite_content(include_bytes!("testdata/rewrite-expected2.conf"), &force);
    let redis = include_str!("testdata/rewrite-expected-forceall.conf");
    // Redis's force-all output also lists the hidden options; compare sets of lines.
    let mut ours: Vec<&str> = std::str::from_utf8(&out)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .collect();
    let mut theirs: Vec<&str> = redis.lines().filter(|l| !l.is_empty()).collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
}

#[test]
fn rewrite_preserves_comments_order_and_unknown_lines() {
    let old = b"# header\n\n\nport 7000\n# keep me\nbogus-option 1\nrename-command flushdb x\nsave 1 1\nsave 2 2\ninclude /x.conf\nsentinel foo\nslaveof 1.2.3.4 5\nloglevel \"unbalanced\n";
    let mut c = parse("dir /data\n").unwrap();
    set(
        &mut c,
        &[("port", "7001"), ("maxmemory", "1gb"), ("save", "3 3")],
    )
    .unwrap();
    let out = String::from_utf8(c.rewrite_content(old, &RewriteExtras::default())).unwrap();
    assert_eq!(
        out,
        "# header\n\nport 7001\n# keep me\n# ??? bogus-option 1\nrename-command flushdb x\nsave 3 3\n\ninclude /x.conf\nsentinel foo\n\n# ??? loglevel \"unbalanced\n\n# Generated by CONFIG REWRITE\nmaxmemory 1gb\ndir \"/data\"\nlatency-tracking-info-percentiles 50 99 99.9\n"
    );
    // No file: only non-default options (plus always-written ones) appear.
    let out = String::from_utf8(
        parse("dir /data\n")
            .unwrap()
            .rewrite_content(b"", &RewriteExtras::default()),
    )
    .unwrap();
    assert_eq!(
        out,
        "# Generated by CONFIG REWRITE\ndir \"/data\"\nsave 3600 1\nsave 300 100\nsave 60 10000\nlatency-tracking-info-percentiles 50 99 99.9\n"
    );
    // `user` lines are replaced only when users are provided, and dropped with an aclfile.
    let old = b"user alice on nopass\nuser bob off\n";
    let out = Config::default().rewrite_content(
        old,
        &RewriteExtras {
            users: Some(USERS),
            ..Default::default()
        },
    );
    assert!(!String::from_utf8(out).unwrap().contains("user "));
    let out = Config::default().rewrite_content(old, &RewriteExtras::default());
    assert!(String::from_utf8(out)
        .unwrap()
        .starts_with("user alice on nopass\nuser bob off\n"));
}

#[test]
fn rewrite_alias_lines_and_round_trip() {
    // introspection.tcl "CONFIG REWRITE handles alias config properly"
    for text in [
        "hash-max-listpack-entries 20\nhash-max-ziplist-entries 21\n",
        "hash-max-ziplist-entries 20\nhash-max-listpack-entries 21\n",
    ] {
        let mut c = parse(text).unwrap();
        assert_eq!(get(&c, "hash-max-ziplist-entries"), "21");
        set(&mut c, &[("hash-max-listpack-entries", "100")]).unwrap();
        let out = c.rewrite_content(text.as_bytes(), &RewriteExtras::default());
        let out_text = String::from_utf8(out.clone()).unwrap();
        assert!(
            out_text.starts_with("hash-max-listpack-entries 100\n\n"),
            "{out_text}"
        );
        assert_eq!(
            Config::from_text(&out, &NO_SIDE_EFFECTS)
                .unwrap()
                .hash_max_listpack_entries,
            100
        );
    }
    // "CONFIG REWRITE sanity": a force-all rewrite of a non-default config reloads identically.
    let mut c = parse("enable-protected-configs yes\nreplicaof 10.1.1.1 7000\nrequirepass \"a b\\x00\"\nunixsocket /tmp/r.sock\nunixsocketperm 755\n").unwrap();
    set(
        &mut c,
        &[
            ("maxmemory-clients", "3%"),
            ("save", ""),
            ("bind", "127.0.0.1 -::1"),
            ("notify-keyspace-events", "Ex"),
            ("client-output-buffer-limit", "normal 1 2 3"),
            ("shutdown-on-sigterm", "nosave now"),
            ("latency-tracking-info-percentiles", ""),
            ("oom-score-adj-values", "1 2 3"),
            ("ignore-warnings", "ARM64-COW-BUG"),
            ("maxmemory", "18446744073709551615"),
            ("masteruser", "bob\n"),
        ],
    )
    .unwrap();
    let out = c.rewrite_content(
        b"",
        &RewriteExtras {
            force_all: true,
            ..Default::default()
        },
    );
    let reloaded = Config::from_text(&out, &NO_SIDE_EFFECTS).unwrap();
    assert_eq!(reloaded, c, "{}", String::from_utf8_lossy(&out));
    let out = c.rewrite_content(b"", &RewriteExtras::default());
    assert_eq!(Config::from_text(&out, &NO_SIDE_EFFECTS).unwrap(), c);
}

#[test]
fn rewrite_writes_file_atomically() {
    let dir = std::env::temp_dir().join(format!("redust-config-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("redis.conf");
    std::fs::write(&path, "# mine\nport 7000\n").unwrap();
    let mut c = Config::default();
    set(&mut c, &[("port", "7001")]).unwrap();
    c.rewrite(&path, &RewriteExtras::default()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# mine\nport 7001\n"));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "temporary file left behind"
    );
    let missing = dir.join("missing/redis.conf");
    let err = c.rewrite(&missing, &RewriteExtras::default()).unwrap_err();
    assert_eq!(strerror(&err), "No such file or directory");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn debug_info_lists_debug_options() {
    let info = Config::default().debug_info();
    assert!(info.contains("lazyfree-lazy-eviction no\n"));
    assert!(info.contains("client-query-buffer-limit 1gb\n"));
    assert!(!info.contains("port"));
    assert!(!info.contains(REWRITE_SIGNATURE));
}

#[test]
fn proc_title_expansion() {
    let c = parse("port 7000\nbind 10.0.0.1\n").unwrap();
    assert_eq!(
        c.expand_proc_title(DEFAULT_PROC_TITLE_TEMPLATE, "redust-server")
            .as_deref(),
        Some("redust-server 10.0.0.1:7000")
    );
    assert_eq!(
        c.expand_proc_title("{{x} {port}", "t").as_deref(),
        Some("{x} 7000")
    );
    assert_eq!(c.expand_proc_title("{nope}", "t"), None);
    assert_eq!(c.expand_proc_title("{title", "t"), None);
    assert_eq!(c.expand_proc_title("x{", "t"), None);
}

#[test]
fn redust_conf_holds_the_defaults() {
    let _g = cwd_lock();
    let mut c = Config::from_text(include_bytes!("../../redust.conf"), &NO_SIDE_EFFECTS).unwrap();
    assert_eq!(c.dir, "./");
    c.dir = Config::default().dir;
    assert_eq!(c, Config::default());
}

#[test]
fn fuzz_load_set_and_rewrite_never_panic() {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let names: Vec<&str> = Config::all_names()
        .chain(["include", "user", "sentinel", "x.y", "rename-command"])
        .collect();
    let values = [
        "",
        "\"\"",
        "0",
        "-1",
        "1",
        "yes",
        "no",
        "100%",
        "-5%",
        "1gb",
        "18446744073709551615",
        "9223372036854775808",
        "normal",
        "slave",
        "1 2 3",
        "nosave now",
        "A",
        "Kq",
        "{title}",
        "{",
        "0x10",
        "777",
        "'a b'",
        "\"\\x00\"",
        "-2147483649",
        "4294967296",
        "nan",
        "1e309",
        "\"unbalanced",
        "*",
        "-::*",
    ];
    let mut c = Config::default();
    for _ in 0..1000 {
        let name = names[(next() as usize) % names.len()];
        let argc = (next() % 4) as usize;
        let args: Vec<&str> = (0..argc)
            .map(|_| values[(next() as usize) % values.len()])
            .collect();
        let line = format!("{name} {}", args.join(" "));
        if name != "include" && name != "dir" && name != "logfile" {
            let _ = parse(&line);
        }
        if name != "dir" {
            let value = args.join(" ");
            let pairs: [(&[u8], &[u8]); 1] = [(name.as_bytes(), value.as_bytes())];
            let opts = SetOptions {
                client_is_local: next() % 2 == 0,
                loading: next() % 5 == 0,
            };
            let _ = c.set(&pairs, &opts, &mut no_apply());
        }
        let _ = c.get(&[
            name.as_bytes(),
            args.first().copied().unwrap_or("*").as_bytes(),
        ]);
        let old = format!("{line}\n# c\n{name}\n\n");
        let out = c.rewrite_content(
            old.as_bytes(),
            &RewriteExtras {
                force_all: next() % 2 == 0,
                ..Default::default()
            },
        );
        // Whatever we write must load back, unless the fuzzed line is a
        // directive the rewrite keeps verbatim.
        if lookup(name.as_bytes()).is_some() {
            let back = Config::from_text(&out, &NO_SIDE_EFFECTS);
            assert!(
                back.is_ok(),
                "{:?}\n{}",
                back.err(),
                String::from_utf8_lossy(&out)
            );
        }
    }
}
