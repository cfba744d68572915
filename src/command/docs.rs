//! COMMAND DOCS: a command's documentation map, including its arguments, which are parsed from
//! the compact syntax string each spec carries (`key:key [NX|XX] [EX seconds:integer]`).
//!
//! Grammar: `name:type` is an argument (types: key, string, integer, double, pattern,
//! unix-time); `TOKEN` alone (upper case) is a pure token; `TOKEN name:type` is an argument
//! introduced by a token; `[ ... ]` is optional; `a|b` inside brackets or parentheses are
//! alternatives (a `oneof`, named by `name=` before the group); `...` after an item makes it
//! multiple; `( ... )` groups items into a block.

/// One documented argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: String,
    pub kind: &'static str,
    pub token: Option<String>,
    pub optional: bool,
    pub multiple: bool,
    pub key_spec_index: Option<usize>,
    pub children: Vec<Arg>,
}

fn kind_of(t: &str) -> &'static str {
    match t {
        "key" => "key",
        "integer" => "integer",
        "double" => "double",
        "pattern" => "pattern",
        "unix-time" => "unix-time",
        _ => "string",
    }
}

struct P<'a> {
    toks: Vec<&'a str>,
    pos: usize,
    keys: usize,
}

fn tokenize(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' => i += 1,
            b'[' | b']' | b'(' | b')' | b'|' => {
                out.push(&s[i..i + 1]);
                i += 1;
            }
            _ => {
                let st = i;
                while i < b.len() && !b" []()|".contains(&b[i]) {
                    i += 1;
                }
                out.push(&s[st..i]);
            }
        }
    }
    out
}

impl<'a> P<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.toks.get(self.pos).copied()
    }

    /// Parse a sequence until `]`, `)`, `|` or the end.
    fn seq(&mut self) -> Vec<Arg> {
        let mut out = Vec::new();
        while let Some(t) = self.peek() {
            if t == "]" || t == ")" || t == "|" {
                break;
            }
            if let Some(a) = self.item() {
                out.push(a);
            }
        }
        out
    }

    fn group(&mut self, close: &str, name: Option<String>, optional: bool) -> Arg {
        let mut alts = vec![self.seq()];
        while self.peek() == Some("|") {
            self.pos += 1;
            alts.push(self.seq());
        }
        if self.peek() == Some(close) {
            self.pos += 1;
        }
        let mut multiple = false;
        if let Some(t) = self.peek() {
            if t.starts_with("...") {
                multiple = true;
                self.pos += 1;
            }
        }
        let to_block = |mut v: Vec<Arg>| -> Arg {
            if v.len() == 1 {
                v.remove(0)
            } else {
                Arg {
                    name: v.first().map(|a| a.name.clone()).unwrap_or_default(),
                    kind: "block",
                    token: None,
                    optional: false,
                    multiple: false,
                    key_spec_index: None,
                    children: v,
                }
            }
        };
        let mut a = if alts.len() > 1 {
            let children: Vec<Arg> = alts.into_iter().map(to_block).collect();
            Arg {
                name: name.clone().unwrap_or_else(|| children.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join("-")),
                kind: "oneof",
                token: None,
                optional: false,
                multiple: false,
                key_spec_index: None,
                children,
            }
        } else {
            let v = alts.pop().unwrap_or_default();
            let mut b = to_block(v);
            if let Some(n) = name {
                b.name = n;
            }
            b
        };
        a.optional |= optional;
        a.multiple |= multiple;
        a
    }

    fn item(&mut self) -> Option<Arg> {
        let t = self.peek()?;
        self.pos += 1;
        if t == "[" {
            return Some(self.group("]", None, true));
        }
        if t == "(" {
            return Some(self.group(")", None, false));
        }
        if let Some((name, rest)) = t.split_once('=') {
            if rest.is_empty() {
                // `name=[...]` or `name=(...)`
                let open = self.peek()?;
                self.pos += 1;
                let close = if open == "[" { "]" } else { ")" };
                return Some(self.group(close, Some(name.to_string()), open == "["));
            }
            // `name=A|B` inline oneof of tokens.
            let mut alts = vec![rest.to_string()];
            while self.peek() == Some("|") {
                self.pos += 1;
                if let Some(n) = self.peek() {
                    alts.push(n.to_string());
                    self.pos += 1;
                }
            }
            return Some(Arg {
                name: name.to_string(),
                kind: "oneof",
                token: None,
                optional: false,
                multiple: false,
                key_spec_index: None,
                children: alts.into_iter().map(|a| pure_token(&a)).collect(),
            });
        }
        let (base, multiple) = match t.strip_suffix("...") {
            Some(b) => (b, true),
            None => (t, false),
        };
        if let Some((name, ty)) = base.split_once(':') {
            let key_spec_index = if ty == "key" {
                self.keys += 1;
                Some(self.keys - 1)
            } else {
                None
            };
            return Some(Arg {
                name: name.to_string(),
                kind: kind_of(ty),
                token: None,
                optional: false,
                multiple,
                key_spec_index,
                children: vec![],
            });
        }
        // A token: followed by an argument on the same level, unless another token or a group.
        let next = self.peek();
        if let Some(n) = next {
            if n.contains(':') && !n.starts_with('[') {
                if let Some(mut a) = self.item() {
                    a.token = Some(base.to_string());
                    a.multiple |= multiple;
                    return Some(a);
                }
            }
        }
        let mut a = pure_token(base);
        a.multiple = multiple;
        Some(a)
    }
}

fn pure_token(t: &str) -> Arg {
    Arg {
        name: t.to_ascii_lowercase(),
        kind: "pure-token",
        token: Some(t.to_string()),
        optional: false,
        multiple: false,
        key_spec_index: None,
        children: vec![],
    }
}

/// Parse a syntax string into COMMAND DOCS arguments.
pub fn parse(syntax: &str) -> Vec<Arg> {
    let mut p = P {
        toks: tokenize(syntax),
        pos: 0,
        keys: 0,
    };
    let mut out = Vec::new();
    while p.pos < p.toks.len() {
        let before = p.pos;
        out.extend(p.seq());
        if p.pos == before {
            p.pos += 1;
        }
    }
    out
}

/// Write one argument's doc map.
pub fn reply_arg(r: &mut crate::resp::reply::ReplyBuf, a: &Arg) {
    let mut n = 2;
    n += a.key_spec_index.is_some() as usize;
    n += a.token.is_some() as usize;
    let flags = a.optional as usize + a.multiple as usize;
    n += (flags > 0) as usize;
    n += (!a.children.is_empty()) as usize;
    r.map_len(n);
    r.bulk(b"name");
    r.bulk(a.name.as_bytes());
    r.bulk(b"type");
    r.bulk(a.kind.as_bytes());
    if let Some(i) = a.key_spec_index {
        r.bulk(b"key_spec_index");
        r.int(i as i64);
    }
    if let Some(t) = &a.token {
        r.bulk(b"token");
        r.bulk(t.as_bytes());
    }
    if flags > 0 {
        r.bulk(b"flags");
        r.set_len(flags);
        if a.optional {
            r.simple(b"optional");
        }
        if a.multiple {
            r.simple(b"multiple");
        }
    }
    if !a.children.is_empty() {
        r.bulk(b"arguments");
        r.array_len(a.children.len());
        for c in &a.children {
            reply_arg(r, c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_set_syntax() {
        let args = parse("key:key value:string [condition=NX|XX] [GET] [expiration=[EX seconds:integer|PX milliseconds:integer|KEEPTTL]]");
        assert_eq!(args.len(), 5);
        assert_eq!(args[0].kind, "key");
        assert_eq!(args[0].key_spec_index, Some(0));
        assert_eq!(args[2].kind, "oneof");
        assert!(args[2].optional);
        assert_eq!(args[2].children.len(), 2);
        assert_eq!(args[3].kind, "pure-token");
        assert_eq!(args[4].name, "expiration");
        assert_eq!(args[4].children[0].token.as_deref(), Some("EX"));
        assert_eq!(args[4].children[2].kind, "pure-token");
    }

    #[test]
    fn multiple_keys() {
        let args = parse("key:key...");
        assert!(args[0].multiple);
    }
}
