//! End-to-end ACL checks against replies recorded from Redis 7.0.15: users and AUTH, the
//! NOPERM errors of commands, keys and channels, the ACL log, ACL LIST formatting, MULTI
//! re-checks at EXEC, disconnection of deleted users, ACL SAVE / LOAD with an aclfile, and
//! `user` directives at start-up.

mod common;

use common::{bulk, status, Reply, Server};

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

fn bulks(items: &[&str]) -> Reply {
    Reply::Array(Some(items.iter().map(|s| bulk(s)).collect()))
}

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// The value after `field` in a flat RESP2 map.
fn field(r: &Reply, name: &str) -> Reply {
    let Reply::Array(Some(items)) = r else {
        panic!("not a map: {r:?}")
    };
    let i = items
        .iter()
        .position(|x| *x == bulk(name))
        .unwrap_or_else(|| panic!("no field {name} in {r:?}"));
    items[i + 1].clone()
}

#[test]
fn users_authenticate_and_are_checked() {
    let s = Server::start(&[]);
    let mut admin = s.client();
    let mut c = s.client();
    assert_eq!(admin.cmd(&["acl", "whoami"]), bulk("default"));
    assert_eq!(
        admin.cmd(&["acl", "setuser", "alice", ">pw", "+get", "~obj:*"]),
        status("OK")
    );
    // New users start disabled.
    assert_eq!(c.cmd(&["auth", "alice", "pw"]), err(WRONGPASS));
    admin.cmd(&["acl", "setuser", "alice", "on"]);
    assert_eq!(c.cmd(&["auth", "alice", "nope"]), err(WRONGPASS));
    assert_eq!(c.cmd(&["auth", "alice", "pw"]), status("OK"));
    assert_eq!(
        c.cmd(&["acl", "whoami"]),
        err("NOPERM this user has no permissions to run the 'acl|whoami' command")
    );
    assert_eq!(c.cmd(&["get", "obj:1"]), Reply::Bulk(None));
    assert_eq!(
        c.cmd(&["get", "other"]),
        err("NOPERM this user has no permissions to access one of the keys used as arguments")
    );
    assert_eq!(
        c.cmd(&["set", "obj:1", "x"]),
        err("NOPERM this user has no permissions to run the 'set' command")
    );
    admin.cmd(&["acl", "setuser", "alice", "+publish"]);
    assert_eq!(
        c.cmd(&["publish", "ch", "m"]),
        err("NOPERM this user has no permissions to access one of the channels used as arguments")
    );
    let log = admin.cmd(&["acl", "log"]);
    let Reply::Array(Some(entries)) = &log else {
        panic!("{log:?}")
    };
    let newest = &entries[0];
    assert_eq!(field(newest, "reason"), bulk("channel"));
    assert_eq!(field(newest, "context"), bulk("toplevel"));
    assert_eq!(field(newest, "object"), bulk("ch"));
    assert_eq!(field(newest, "username"), bulk("alice"));
    assert_eq!(field(&entries[1], "object"), bulk("set"));
    assert_eq!(field(&entries[2], "reason"), bulk("key"));
    assert_eq!(field(&entries[2], "object"), bulk("other"));
    assert_eq!(
        admin.cmd(&["acl", "dryrun", "alice", "get", "nope"]),
        bulk("This user has no permissions to access the 'nope' key")
    );
}

#[test]
fn acl_list_prints_rules_like_redis() {
    let s = Server::start(&[]);
    let mut c = s.client();
    c.cmd(&[
        "acl",
        "setuser",
        "t1",
        "reset",
        "+@all",
        "-@string",
        "+incr",
        "-debug",
        "+debug|digest",
        "~a",
        "%R~b",
        "%W~c",
        "resetchannels",
        "&x",
    ]);
    c.cmd(&[
        "acl", "setuser", "t2", "on", "nopass", "-@all", "+get", "(+set", "~w*)",
    ]);
    assert_eq!(
        c.cmd(&["acl", "list"]),
        bulks(&[
            "user default on nopass ~* &* +@all",
            "user t1 off sanitize-payload ~a %R~b %W~c resetchannels &x +@all -@string -debug +debug|digest +incr",
            "user t2 on nopass resetchannels -@all +get (~w* resetchannels -@all +set)",
        ])
    );
    assert_eq!(c.cmd(&["acl", "users"]), bulks(&["default", "t1", "t2"]));
    let u = c.cmd(&["acl", "getuser", "t1"]);
    assert_eq!(field(&u, "keys"), bulk("~a %R~b %W~c"));
    assert_eq!(field(&u, "channels"), bulk("&x"));
    assert_eq!(
        c.cmd(&["acl", "setuser", "t1", "+config|get|x"]),
        err("ERR Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported")
    );
    assert_eq!(
        c.cmd(&["acl", "deluser", "default"]),
        err("ERR The 'default' user cannot be removed")
    );
}

#[test]
fn exec_rechecks_and_deleted_users_are_disconnected() {
    let s = Server::start(&[]);
    let mut admin = s.client();
    let mut c = s.client();
    admin.cmd(&["acl", "setuser", "bob", "on", ">p", "+@all", "~*"]);
    assert_eq!(c.cmd(&["auth", "bob", "p"]), status("OK"));
    assert_eq!(c.cmd(&["multi"]), status("OK"));
    assert_eq!(c.cmd(&["incr", "n"]), status("QUEUED"));
    admin.cmd(&["acl", "setuser", "bob", "-incr"]);
    assert_eq!(
        c.cmd(&["exec"]),
        Reply::Array(Some(vec![err("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand")]))
    );
    assert_eq!(admin.cmd(&["acl", "deluser", "bob"]), Reply::Int(1));
    c.send(&[b"ping"]);
    let mut buf = [0u8; 64];
    let n = std::io::Read::read(&mut c.w, &mut buf).unwrap_or(0);
    assert_eq!(n, 0, "bob's connection must be closed");
}

#[test]
fn requirepass_is_the_default_users_password() {
    let s = Server::start(&["--requirepass", "secret"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["get", "x"]), err("NOAUTH Authentication required."));
    assert_eq!(c.cmd(&["auth", "wrong"]), err(WRONGPASS));
    assert_eq!(c.cmd(&["auth", "secret"]), status("OK"));
    assert_eq!(
        c.cmd(&["acl", "list"]),
        bulks(&["user default on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@all"])
    );
}

#[test]
fn aclfile_save_and_load() {
    let dir = std::env::temp_dir().join(format!("redust-acl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("users.acl"),
        "user default on nopass ~* &* +@all\nuser carol on nopass (+get ~r*)\n",
    )
    .unwrap();
    let s = Server::start_in(&dir, &["--aclfile", "users.acl"]);
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["acl", "list"]),
        bulks(&[
            "user carol on nopass resetchannels -@all (~r* resetchannels -@all +get)",
            "user default on nopass ~* &* +@all",
        ])
    );
    c.cmd(&["acl", "setuser", "dave", "on", "nopass", "+ping"]);
    assert_eq!(c.cmd(&["acl", "save"]), status("OK"));
    let saved = std::fs::read_to_string(dir.join("users.acl")).unwrap();
    assert!(
        saved.contains("user dave on nopass resetchannels -@all +ping\n"),
        "{saved}"
    );
    std::fs::write(
        dir.join("users.acl"),
        "user default on nopass ~* &* +@all\nuser x on bogus\n",
    )
    .unwrap();
    let Reply::Error(e) = c.cmd(&["acl", "load"]) else {
        panic!("a bad file must be refused")
    };
    assert!(e.contains("users.acl:2: Syntax error."), "{e}");
    assert_eq!(
        c.cmd(&["acl", "users"]),
        bulks(&["carol", "dave", "default"])
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn user_directives_at_startup() {
    let s = Server::start(&[
        "--user", "default", "on", "nopass", "~*", "+@all", "-flushdb",
    ]);
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["flushdb"]),
        err("NOPERM this user has no permissions to run the 'flushdb' command")
    );
    // resetchannels is the 7.0 default for new selectors.
    assert_eq!(
        c.cmd(&["subscribe", "x"]),
        err("NOPERM this user has no permissions to access one of the channels used as arguments")
    );
}
