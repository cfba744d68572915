//! Rule parsing, the describe round trip, and key/channel permission checks.

use super::*;
use crate::command::table::{CommandTable, Lookup};

fn table() -> CommandTable {
    CommandTable::build(crate::commands::ALL)
}

fn user(t: &CommandTable, rules: &str) -> Result<User, String> {
    let r = Rules {
        commands: t,
        pubsub_all: false,
    };
    let mut u = User::new(b"u", &r);
    let args: Vec<&[u8]> = rules.split(' ').map(|s| s.as_bytes()).collect();
    u.apply_all(&args, &r)?;
    Ok(u)
}

fn describe(t: &CommandTable, rules: &str) -> String {
    String::from_utf8(user(t, rules).unwrap().describe(t)).unwrap()
}

fn argv(s: &str) -> Vec<Bytes> {
    s.split(' ')
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect()
}

fn check(t: &CommandTable, u: &User, cmd: &str) -> Result<(), Denied> {
    let a = argv(cmd);
    let Lookup::Found(id) = t.lookup(&a) else {
        panic!("unknown command {cmd}");
    };
    u.check_command(t, id, &a)
}

#[test]
fn new_users_describe_like_redis() {
    let t = table();
    assert_eq!(describe(&t, ""), "off resetchannels -@all");
    assert_eq!(
        describe(&t, "reset"),
        "off sanitize-payload resetchannels -@all"
    );
    assert_eq!(
        describe(&t, "on nopass resetchannels &foo +@all"),
        "on nopass resetchannels &foo +@all"
    );
    let r = Rules {
        commands: &t,
        pubsub_all: false,
    };
    assert_eq!(
        String::from_utf8(User::new_default(&r).describe(&t)).unwrap(),
        "on nopass ~* &* +@all"
    );
}

#[test]
fn command_rules_compact_like_redis() {
    let t = table();
    assert_eq!(
        describe(&t, "+@all -client|kill"),
        "off resetchannels +@all -client|kill"
    );
    assert_eq!(
        describe(&t, "+config|get"),
        "off resetchannels -@all +config|get"
    );
    assert_eq!(
        describe(&t, "+config|get +config"),
        "off resetchannels -@all +config"
    );
    assert_eq!(
        describe(&t, "+config +@all +client|id"),
        "off resetchannels +@all"
    );
    assert_eq!(
        describe(&t, "+@all -client +client|id"),
        "off resetchannels +@all -client +client|id"
    );
    assert_eq!(
        describe(&t, "-@all +select|0"),
        "off resetchannels -@all +select|0"
    );
    for &(cflag, name) in crate::command::acl::NAMES {
        if !t
            .entries
            .iter()
            .any(|e| e.spec.acl_categories() & cflag != 0)
        {
            continue; // a category with no command yet (stream) has no effect
        }
        assert_eq!(
            describe(&t, &format!("+@all -@{name}")),
            format!("off resetchannels +@all -@{name}")
        );
        assert_eq!(
            describe(&t, &format!("-@all +@{name}")),
            format!("off resetchannels -@all +@{name}")
        );
    }
}

#[test]
fn describe_round_trips() {
    let t = table();
    for rules in [
        "on >pw ~foo:* %R~read* %W~write* &chan +@all -@string +incr -debug +debug|digest",
        "+@string -incr +acl +debug|digest +debug|segfault (+get ~x) (%W~y +set)",
        "allcommands -config|set -client allkeys",
    ] {
        let u = user(&t, rules).unwrap();
        let d = String::from_utf8(u.describe(&t)).unwrap();
        let again = user(&t, &d).unwrap();
        assert_eq!(again.selectors, u.selectors, "{rules} -> {d}");
        assert_eq!(String::from_utf8(again.describe(&t)).unwrap(), d);
    }
}

#[test]
fn rule_errors() {
    let t = table();
    let err = |r: &str| user(&t, r).unwrap_err();
    assert_eq!(
        err("+config|get|appendonly"),
        "Error in ACL SETUSER modifier '+config|get|appendonly': Allowing first-arg of a subcommand is not supported"
    );
    assert!(err("+config|asdf").ends_with("Unknown command or category name in ACL"));
    assert!(err("-get|key1|key2").ends_with("Unknown command or category name in ACL"));
    assert_eq!(
        err("%~"),
        "Error in ACL SETUSER modifier '%~': Syntax error"
    );
    assert_eq!(err("%"), "Error in ACL SETUSER modifier '%': Syntax error");
    assert!(
        err("#34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e")
            .ends_with("only lowercase hexadecimal characters")
    );
    assert!(err("(&* &fail)").contains("Adding a pattern after the"));
    assert_eq!(
        err("(+get"),
        "Unmatched parenthesis in acl selector starting at '(+get'."
    );
    assert!(err(")").ends_with("Syntax error"));
    assert!(err("<nosuchpass").contains("does not exist"));
}

#[test]
fn passwords_are_sha256() {
    let t = table();
    let u = user(&t, "on >passwd4").unwrap();
    assert_eq!(
        u.passwords,
        vec!["34344e4d60c2b6d639b7bd22e18f2b0b91bc34bf0ac5f9952744435093cfb4e6".to_string()]
    );
    assert!(u.password_ok(b"passwd4"));
    assert!(!u.password_ok(b"passwd"));
    let off = user(&t, ">passwd4").unwrap();
    assert!(!off.password_ok(b"passwd4"));
}

#[test]
fn key_permissions_use_key_spec_flags() {
    let t = table();
    let u = user(&t, "+@all %R~read* %W~write* %RW~rw*").unwrap();
    assert_eq!(check(&t, &u, "get read"), Ok(()));
    assert_eq!(check(&t, &u, "get write"), Err(Denied::Key(1)));
    assert_eq!(check(&t, &u, "lpush write 1"), Ok(()));
    assert_eq!(check(&t, &u, "copy read write"), Ok(()));
    assert_eq!(check(&t, &u, "copy write read"), Err(Denied::Key(1)));
    // Existence checks need some pattern, of either kind.
    assert_eq!(check(&t, &u, "exists write"), Ok(()));
    assert_eq!(check(&t, &u, "exists nothing"), Err(Denied::Key(1)));
    // SET's flags depend on GET.
    assert_eq!(check(&t, &u, "set write v"), Ok(()));
    assert_eq!(check(&t, &u, "set write v get"), Err(Denied::Key(1)));
    assert_eq!(check(&t, &u, "set rw1 v get"), Ok(()));
    // SORT's STORE key is written.
    assert_eq!(check(&t, &u, "sort read store write"), Ok(()));
    assert_eq!(check(&t, &u, "sort read store read"), Err(Denied::Key(3)));
    assert_eq!(
        check(&t, &u, "georadius read 1 2 3 m storedist write"),
        Ok(())
    );
    assert_eq!(check(&t, &u, "eval x 0 read"), Ok(()));
    assert_eq!(check(&t, &u, "eval x 1 read"), Err(Denied::Key(3)));
}

#[test]
fn selectors_are_alternatives() {
    let t = table();
    let u = user(&t, "+mget ~key (+mget ~key ~otherkey)").unwrap();
    assert_eq!(check(&t, &u, "get key"), Err(Denied::Command));
    assert_eq!(
        check(&t, &u, "mget otherkey someotherkey"),
        Err(Denied::Key(2))
    );
    assert_eq!(check(&t, &u, "mget key otherkey"), Ok(()));
}

#[test]
fn channel_permissions() {
    let t = table();
    let u = user(&t, "+@all resetchannels &foo:1 &bar:*").unwrap();
    assert_eq!(check(&t, &u, "publish bar:2 m"), Ok(()));
    assert_eq!(check(&t, &u, "publish zap m"), Err(Denied::Channel(1)));
    assert_eq!(
        check(&t, &u, "subscribe foo:1 zap"),
        Err(Denied::Channel(2))
    );
    // A PSUBSCRIBE pattern must be one of the patterns literally.
    assert_eq!(check(&t, &u, "psubscribe bar:*"), Ok(()));
    assert_eq!(check(&t, &u, "psubscribe bar:baz"), Err(Denied::Channel(1)));
    assert_eq!(check(&t, &u, "unsubscribe zap"), Ok(()));
}

#[test]
fn first_args_and_subcommands() {
    let t = table();
    let u = user(&t, "-@all +select|0 +client|id").unwrap();
    assert_eq!(check(&t, &u, "select 0"), Ok(()));
    assert_eq!(check(&t, &u, "select 1"), Err(Denied::Command));
    assert_eq!(check(&t, &u, "client id"), Ok(()));
    assert_eq!(check(&t, &u, "client kill x"), Err(Denied::Command));
    // NO_AUTH commands are always allowed.
    assert_eq!(check(&t, &u, "auth x"), Ok(()));
}

#[test]
fn merging_selector_arguments() {
    let args: Vec<&[u8]> = vec![b"on", b"(+get", b"~x)", b"(~y)", b"off"];
    assert_eq!(
        merge_selector_args(&args).unwrap(),
        vec![
            b"on".to_vec(),
            b"(+get ~x)".to_vec(),
            b"(~y)".to_vec(),
            b"off".to_vec()
        ]
    );
    let bad: Vec<&[u8]> = vec![b"on", b"(+get"];
    assert_eq!(merge_selector_args(&bad), Err(1));
}
