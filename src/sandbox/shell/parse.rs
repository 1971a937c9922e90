//! A POSIX sh subset, enough for the loops people run with `kubectl exec`: words with
//! quotes and `$VAR`, `${VAR}`, `$(...)`, `$((...))`; pipelines; `;`, newlines, `&&`, `||`;
//! `while`/`until`/`for`/`if`; `!`. The words come from `lex`.

pub use super::lex::{Part, Word};
use super::lex::{Tok, lex, literal};

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    For {
        var: String,
        words: Vec<Word>,
        body: Box<Node>,
    },
    Simple {
        assigns: Vec<(String, Word)>,
        words: Vec<Word>,
    },
    Pipeline {
        negate: bool,
        stages: Vec<Node>,
    },
    AndOr {
        first: Box<Node>,
        rest: Vec<(bool, Node)>,
    },
    List(Vec<Node>),
    Loop {
        until: bool,
        cond: Box<Node>,
        body: Box<Node>,
    },
    If {
        branches: Vec<(Node, Node)>,
        otherwise: Option<Box<Node>>,
    },
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    /// Lists open around the current one: a bound keeps deep nesting off the stack.
    depth: usize,
}

/// Deeper nesting of `( … )`, `if`, `while` and `for` than this is a syntax error.
const MAX_DEPTH: usize = 100;

const RESERVED_END: &[&str] = &["do", "done", "then", "fi", "else", "elif"];

impl Parser {
    fn peek_word(&self) -> Option<&str> {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w)) => literal(w),
            _ => None,
        }
    }

    fn peek_op(&self) -> Option<&'static str> {
        match self.toks.get(self.pos) {
            Some(Tok::Op(op)) => Some(op),
            _ => None,
        }
    }

    fn skip_newlines(&mut self) {
        while matches!(self.peek_op(), Some("\n" | ";")) {
            self.pos += 1;
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), String> {
        self.skip_newlines();
        if self.peek_word() == Some(word) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("syntax error: expected \"{word}\""))
        }
    }

    fn list(&mut self) -> Result<Node, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("syntax error: nested too deeply".into());
        }
        let list = self.list_items();
        self.depth -= 1;
        list
    }

    fn list_items(&mut self) -> Result<Node, String> {
        let mut items = Vec::new();
        loop {
            self.skip_newlines();
            match self.toks.get(self.pos) {
                None => break,
                Some(Tok::Op(")")) => break,
                Some(Tok::Word(_))
                    if self.peek_word().is_some_and(|w| RESERVED_END.contains(&w)) =>
                {
                    break;
                }
                _ => {}
            }
            items.push(self.and_or()?);
            match self.peek_op() {
                Some(";" | "\n") => self.pos += 1,
                Some("&") => {
                    return Err("syntax error: background jobs (&) are not supported".into());
                }
                _ => {}
            }
        }
        Ok(Node::List(items))
    }

    fn and_or(&mut self) -> Result<Node, String> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        while let Some(op @ ("&&" | "||")) = self.peek_op() {
            self.pos += 1;
            while self.peek_op() == Some("\n") {
                self.pos += 1;
            }
            rest.push((op == "&&", self.pipeline()?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Node::AndOr {
                first: Box::new(first),
                rest,
            }
        })
    }

    fn pipeline(&mut self) -> Result<Node, String> {
        let negate = self.peek_word() == Some("!");
        if negate {
            self.pos += 1;
        }
        let mut stages = vec![self.command()?];
        while self.peek_op() == Some("|") {
            self.pos += 1;
            while self.peek_op() == Some("\n") {
                self.pos += 1;
            }
            stages.push(self.command()?);
        }
        Ok(if stages.len() == 1 && !negate {
            stages.remove(0)
        } else {
            Node::Pipeline { negate, stages }
        })
    }

    fn command(&mut self) -> Result<Node, String> {
        match self.peek_word() {
            Some(kw @ ("while" | "until")) => {
                let until = kw == "until";
                self.pos += 1;
                let cond = self.list()?;
                self.expect_word("do")?;
                let body = self.list()?;
                self.expect_word("done")?;
                Ok(Node::Loop {
                    until,
                    cond: Box::new(cond),
                    body: Box::new(body),
                })
            }
            Some("for") => {
                self.pos += 1;
                let var = match self.toks.get(self.pos) {
                    Some(Tok::Word(w)) => literal(w).map(String::from),
                    _ => None,
                }
                .filter(|v| {
                    v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !v.starts_with(|c: char| c.is_ascii_digit())
                })
                .ok_or("syntax error: bad for loop variable")?;
                self.pos += 1;
                let mut words = Vec::new();
                if self.peek_word() == Some("in") {
                    self.pos += 1;
                    while let Some(Tok::Word(w)) = self.toks.get(self.pos) {
                        words.push(w.clone());
                        self.pos += 1;
                    }
                }
                self.expect_word("do")?;
                let body = self.list()?;
                self.expect_word("done")?;
                Ok(Node::For {
                    var,
                    words,
                    body: Box::new(body),
                })
            }
            Some("if") => {
                self.pos += 1;
                let mut branches = Vec::new();
                let mut otherwise = None;
                loop {
                    let cond = self.list()?;
                    self.expect_word("then")?;
                    let body = self.list()?;
                    branches.push((cond, body));
                    self.skip_newlines();
                    match self.peek_word() {
                        Some("elif") => self.pos += 1,
                        Some("else") => {
                            self.pos += 1;
                            otherwise = Some(Box::new(self.list()?));
                            self.expect_word("fi")?;
                            break;
                        }
                        _ => {
                            self.expect_word("fi")?;
                            break;
                        }
                    }
                }
                Ok(Node::If {
                    branches,
                    otherwise,
                })
            }
            Some(w) if RESERVED_END.contains(&w) => {
                Err(format!("syntax error: unexpected \"{w}\""))
            }
            _ => self.simple(),
        }
    }

    fn simple(&mut self) -> Result<Node, String> {
        let mut assigns = Vec::new();
        let mut words = Vec::new();
        while let Some(Tok::Word(w)) = self.toks.get(self.pos) {
            let w = w.clone();
            self.pos += 1;
            if words.is_empty()
                && let Some(Part::Lit(first, false)) = w.first()
                && let Some((name, value)) = first.split_once('=')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
            {
                let mut value_word: Word = Vec::new();
                if !value.is_empty() {
                    value_word.push(Part::Lit(value.to_string(), false));
                }
                value_word.extend(w[1..].iter().cloned());
                assigns.push((name.to_string(), value_word));
                continue;
            }
            words.push(w);
        }
        if words.is_empty() && assigns.is_empty() {
            return Err(match self.toks.get(self.pos) {
                Some(Tok::Op(op)) => {
                    format!("syntax error: unexpected \"{}\"", op.escape_default())
                }
                _ => "syntax error: unexpected end of file".into(),
            });
        }
        Ok(Node::Simple { assigns, words })
    }
}

/// Parses a whole script.
pub fn parse(src: &str) -> Result<Node, String> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        depth: 0,
    };
    let node = p.list()?;
    if p.pos < p.toks.len() {
        return Err(match &p.toks[p.pos] {
            Tok::Word(w) => format!(
                "syntax error: unexpected \"{}\"",
                literal(w).unwrap_or("word")
            ),
            Tok::Op(op) => format!("syntax error: unexpected \"{}\"", op.escape_default()),
        });
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_loop() {
        let node = parse("while true\ndo\n        date | nc tcp-echo 9000\n        sleep 2\ndone")
            .unwrap();
        let Node::List(items) = node else { panic!() };
        assert!(matches!(&items[0], Node::Loop { until: false, .. }));
        let Node::List(items) = parse("for i in 1 2 3; do echo $i; done").unwrap() else {
            panic!()
        };
        assert!(
            matches!(&items[0], Node::For { var, words, .. } if var == "i" && words.len() == 3)
        );
    }

    #[test]
    fn parses_quotes_and_expansions() {
        let node = parse(r#"end=$(( $(date +%s) + 5 )); echo "a $end" 'b $c'"#).unwrap();
        let Node::List(items) = node else { panic!() };
        assert_eq!(items.len(), 2);
        let Node::Simple { words, .. } = &items[1] else {
            panic!()
        };
        assert_eq!(
            words[1],
            vec![Part::Lit("a ".into(), true), Part::Var("end".into(), true)]
        );
        assert_eq!(words[2], vec![Part::Lit("b $c".into(), true)]);
    }

    #[test]
    fn rejects_broken_scripts() {
        assert!(parse("while true; do date").is_err());
        assert!(parse("echo 'open").is_err());
        assert!(parse("done").is_err());
        assert!(parse("sleep 1 &").is_err());
        assert!(parse("for 1x in a; do echo; done").is_err());
    }
}
