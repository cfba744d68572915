//! End-to-end checks of the server core over a real socket: protocol handling, errors,
//! pipelining, RESP3, and a few commands of each family.

mod common;

use common::{bulk, status, Reply, Server};

#[test]
fn ping_echo_and_inline() {
    let s = Server::start(&[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["PING"]), status("PONG"));
    assert_eq!(c.cmd(&["ping", "hi"]), bulk("hi"));
    assert_eq!(c.cmd(&["echo", "x y"]), bulk("x y"));
    c.send_raw(b"set k \"a b\"\r\nget k\r\n");
    assert_eq!(c.read(), status("OK"));
    assert_eq!(c.read(), bulk("a b"));
}

#[test]
fn unknown_command_and_arity_errors() {
    let s = Server::start(&[]);
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["nosuch", "a", "b"]),
        Reply::Error("ERR unknown command 'nosuch', with args beginning with: 'a' 'b' ".into())
    );
    assert_eq!(
        c.cmd(&["get"]),
        Reply::Error("ERR wrong number of arguments for 'get' command".into())
    );
    assert_eq!(
        c.cmd(&["config", "nosuch"]),
        Reply::Error("ERR unknown subcommand 'nosuch'. Try CONFIG HELP.".into())
    );
}

#[test]
fn protocol_error_closes_connection() {
    let s = Server::start(&["--loglevel", "debug"]);
    let mut c = s.client();
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n");
    assert_eq!(
        c.read(),
        Reply::Error("ERR Protocol error: expected '$', got 'f'".into())
    );
    let mut buf = [0u8; 1];
    use std::io::Read;
    assert_eq!(
        c.w.read(&mut buf).unwrap_or(0),
        0,
        "connection should be closed"
    );
    // The server is still fine for others.
    assert_eq!(s.client().cmd(&["ping"]), status("PONG"));
}

#[test]
fn pipelining_many_commands() {
    let s = Server::start(&[]);
    let mut c = s.client();
    let mut batch = Vec::new();
    for i in 0..1000 {
        let k = format!("k{}", i);
        batch.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n${}\r\n{}\r\n$1\r\nv\r\n", k.len(), k).as_bytes(),
        );
    }
    c.send_raw(&batch);
    for _ in 0..1000 {
        assert_eq!(c.read(), status("OK"));
    }
    assert_eq!(c.cmd(&["dbsize"]), Reply::Int(1000));
}

#[test]
fn strings_and_expiry() {
    let s = Server::start(&[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["set", "n", "10"]), status("OK"));
    assert_eq!(c.cmd(&["incrby", "n", "5"]), Reply::Int(15));
    assert_eq!(c.cmd(&["append", "n", "x"]), Reply::Int(3));
    assert_eq!(
        c.cmd(&["incr", "n"]),
        Reply::Error("ERR value is not an integer or out of range".into())
    );
    assert_eq!(c.cmd(&["set", "t", "v", "px", "100000"]), status("OK"));
    match c.cmd(&["pttl", "t"]) {
        Reply::Int(ms) => assert!(ms > 90000 && ms <= 100000, "{}", ms),
        r => panic!("{:?}", r),
    }
    assert_eq!(c.cmd(&["persist", "t"]), Reply::Int(1));
    assert_eq!(c.cmd(&["ttl", "t"]), Reply::Int(-1));
    assert_eq!(c.cmd(&["pexpire", "t", "1"]), Reply::Int(1));
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(c.cmd(&["get", "t"]), Reply::Bulk(None));
}

#[test]
fn resp3_hello_and_types() {
    let s = Server::start(&[]);
    let mut c = s.client();
    match c.cmd(&["hello", "3"]) {
        Reply::Map(m) => assert!(m.contains(&(bulk("proto"), Reply::Int(3)))),
        r => panic!("{:?}", r),
    }
    assert_eq!(c.cmd(&["get", "missing"]), Reply::Null);
    assert!(
        matches!(c.cmd(&["debug", "protocol", "double"]), Reply::Error(e) if e.starts_with("ERR DEBUG command not allowed"))
    );
}

#[test]
fn resp3_debug_protocol_types() {
    let s = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = s.client();
    c.cmd(&["hello", "3"]);
    assert_eq!(
        c.cmd(&["debug", "protocol", "double"]),
        Reply::Double("3.141".into())
    );
    assert_eq!(c.cmd(&["debug", "protocol", "true"]), Reply::Bool(true));
    assert_eq!(
        c.cmd(&["debug", "protocol", "bignum"]),
        Reply::BigNum("1234567999999999999999999999999999999".into())
    );
    assert_eq!(
        c.cmd(&["debug", "protocol", "set"]),
        Reply::Set(vec![Reply::Int(0), Reply::Int(1), Reply::Int(2)])
    );
}

#[test]
fn multi_exec_and_watch() {
    let s = Server::start(&[]);
    let mut a = s.client();
    let mut b = s.client();
    assert_eq!(a.cmd(&["watch", "w"]), status("OK"));
    assert_eq!(b.cmd(&["set", "w", "1"]), status("OK"));
    assert_eq!(a.cmd(&["multi"]), status("OK"));
    assert_eq!(a.cmd(&["set", "x", "1"]), status("QUEUED"));
    assert_eq!(a.cmd(&["exec"]), Reply::Array(None));
    assert_eq!(a.cmd(&["multi"]), status("OK"));
    assert_eq!(a.cmd(&["incr", "c"]), status("QUEUED"));
    assert_eq!(a.cmd(&["incr", "c"]), status("QUEUED"));
    assert_eq!(
        a.cmd(&["exec"]),
        Reply::Array(Some(vec![Reply::Int(1), Reply::Int(2)]))
    );
}

#[test]
fn pubsub_delivery() {
    let s = Server::start(&[]);
    let mut sub = s.client();
    let mut publ = s.client();
    assert_eq!(
        sub.cmd(&["subscribe", "ch"]),
        Reply::Array(Some(vec![bulk("subscribe"), bulk("ch"), Reply::Int(1)]))
    );
    assert_eq!(publ.cmd(&["publish", "ch", "hello"]), Reply::Int(1));
    assert_eq!(
        sub.read(),
        Reply::Array(Some(vec![bulk("message"), bulk("ch"), bulk("hello")]))
    );
    assert!(
        matches!(sub.cmd(&["get", "x"]), Reply::Error(e) if e.starts_with("ERR Can't execute 'get'"))
    );
}

/// A big bulk argument arriving in pieces is read into a buffer of its own size: the
/// client's query buffer is what it sent, not double (client eviction compares it).
#[test]
fn big_bulk_query_buffer_is_not_doubled() {
    let s = Server::start(&[]);
    let mut big = s.client();
    let n = 200_000;
    big.send_raw(format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", n).as_bytes());
    for _ in 0..10 {
        big.send_raw(&vec![b'v'; n / 10]);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // The bulk still lacks its CRLF, so the command is pending with all the data read.
    let mut admin = s.client();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let fields = loop {
        let list = admin.cmd(&["client", "list"]).bulk_str();
        let line = list
            .lines()
            .find(|l| l.contains("cmd=NULL") && !l.contains("qbuf=0 "))
            .map(str::to_owned);
        if let Some(line) = line {
            let field = |name: &str| -> usize {
                line.split(' ')
                    .find_map(|kv| kv.strip_prefix(&format!("{}=", name)))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("no {} in {}", name, line))
            };
            if field("qbuf") >= n {
                break (field("qbuf"), field("qbuf-free"), field("tot-mem"));
            }
        }
        assert!(std::time::Instant::now() < deadline, "bulk never arrived");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let (qbuf, free, tot) = fields;
    assert!(
        qbuf + free <= n + 2 + 1024,
        "query buffer grew: {:?}",
        fields
    );
    assert!(
        tot < n + n / 2,
        "client memory {} for a {} byte bulk",
        tot,
        qbuf
    );
    big.send_raw(b"\r\n");
    assert_eq!(big.read(), status("OK"));
    assert_eq!(admin.cmd(&["strlen", "k"]), Reply::Int(n as i64));
}
