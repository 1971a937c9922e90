//! A POSIX sh subset, enough for the loops people run with `kubectl exec`: words with
//! quotes and `$VAR`, `${VAR}`, `$(...)`, `$((...))`; pipelines; `;`, newlines, `&&`, `||`;
//! `while`/`until`/`if`; `!`.

/// One piece of a word; `quoted` pieces are not split on whitespace after expansion.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String, bool),
    Var(String, bool),
    Arith(String, bool),
    Subst(String, bool),
}

pub type Word = Vec<Part>;

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

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(Word),
    Op(&'static str),
}

fn literal(word: &Word) -> Option<&str> {
    match word.as_slice() {
        [Part::Lit(s, false)] => Some(s),
        _ => None,
    }
}

/// Reads `$(...)` or `$((...))` bodies, balancing parentheses.
fn read_balanced(
    chars: &[char],
    mut i: usize,
    depth_start: usize,
) -> Result<(String, usize), String> {
    let mut depth = depth_start;
    let mut out = String::new();
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Ok((out, i + 1));
                }
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    Err("syntax error: unterminated $(".into())
}

fn lex_dollar(chars: &[char], i: usize, quoted: bool, word: &mut Word) -> Result<usize, String> {
    // chars[i] == '$'
    let next = chars.get(i + 1).copied();
    match next {
        Some('(') if chars.get(i + 2) == Some(&'(') => {
            let (body, end) = read_balanced(chars, i + 3, 2)?;
            // body ends with the first of the two closing parens
            let body = body.strip_suffix(')').unwrap_or(&body).to_string();
            word.push(Part::Arith(body, quoted));
            Ok(end)
        }
        Some('(') => {
            let (body, end) = read_balanced(chars, i + 2, 1)?;
            word.push(Part::Subst(body, quoted));
            Ok(end)
        }
        Some('{') => {
            let close = chars[i + 2..]
                .iter()
                .position(|c| *c == '}')
                .ok_or("syntax error: bad substitution")?;
            let name: String = chars[i + 2..i + 2 + close].iter().collect();
            word.push(Part::Var(name, quoted));
            Ok(i + 3 + close)
        }
        Some(c) if c == '?' || c == '$' || c == '#' || c.is_ascii_digit() => {
            word.push(Part::Var(c.to_string(), quoted));
            Ok(i + 2)
        }
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            word.push(Part::Var(chars[i + 1..j].iter().collect(), quoted));
            Ok(j)
        }
        _ => {
            push_lit(word, "$", quoted);
            Ok(i + 1)
        }
    }
}

fn push_lit(word: &mut Word, s: &str, quoted: bool) {
    if let Some(Part::Lit(prev, q)) = word.last_mut()
        && *q == quoted
    {
        prev.push_str(s);
        return;
    }
    word.push(Part::Lit(s.to_string(), quoted));
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut word: Word = Vec::new();
    let mut in_word = false;
    let mut i = 0;
    let flush = |toks: &mut Vec<Tok>, word: &mut Word, in_word: &mut bool| {
        if *in_word {
            toks.push(Tok::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                flush(&mut toks, &mut word, &mut in_word);
                i += 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\n' | ';' | '|' | '&' | '(' | ')' => {
                flush(&mut toks, &mut word, &mut in_word);
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = match (c, two.as_str()) {
                    (_, "&&") => "&&",
                    (_, "||") => "||",
                    (_, ";;") => return Err("syntax error: unexpected \";;\"".into()),
                    ('\n', _) => "\n",
                    (';', _) => ";",
                    ('|', _) => "|",
                    ('&', _) => "&",
                    ('(', _) => "(",
                    _ => ")",
                };
                toks.push(Tok::Op(op));
                i += op.len();
            }
            '\'' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|c| *c == '\'')
                    .ok_or("syntax error: unterminated quoted string")?;
                let s: String = chars[i + 1..i + 1 + close].iter().collect();
                push_lit(&mut word, &s, true);
                in_word = true;
                i += close + 2;
            }
            '"' => {
                in_word = true;
                i += 1;
                // An empty "" still makes a word.
                push_lit(&mut word, "", true);
                loop {
                    let Some(&c) = chars.get(i) else {
                        return Err("syntax error: unterminated quoted string".into());
                    };
                    match c {
                        '"' => {
                            i += 1;
                            break;
                        }
                        '\\' if matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`' | '\n')) => {
                            push_lit(&mut word, &chars[i + 1].to_string(), true);
                            i += 2;
                        }
                        '$' => i = lex_dollar(&chars, i, true, &mut word)?,
                        c => {
                            push_lit(&mut word, &c.to_string(), true);
                            i += 1;
                        }
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.get(i + 1) {
                    Some('\n') => {}
                    Some(n) => push_lit(&mut word, &n.to_string(), true),
                    None => {}
                }
                i += 2;
            }
            '$' => {
                in_word = true;
                i = lex_dollar(&chars, i, false, &mut word)?;
            }
            c => {
                in_word = true;
                push_lit(&mut word, &c.to_string(), false);
                i += 1;
            }
        }
    }
    flush(&mut toks, &mut word, &mut in_word);
    Ok(toks)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

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
