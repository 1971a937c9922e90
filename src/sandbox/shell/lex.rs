//! Words and operators of the sh subset: quotes, `$VAR`, `${VAR}`, `$(...)`,
//! `$((...))`, comments, and `;` `\n` `|` `&&` `||` `&` `(` `)`.

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
pub(super) enum Tok {
    Word(Word),
    Op(&'static str),
}

pub(super) fn literal(word: &Word) -> Option<&str> {
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

pub(super) fn lex(src: &str) -> Result<Vec<Tok>, String> {
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
                let op = operator(&chars, i)?;
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
                i = lex_double_quoted(&chars, i + 1, &mut word)?;
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

/// The operator at `chars[i]`, one or two characters long.
fn operator(chars: &[char], i: usize) -> Result<&'static str, String> {
    let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
    Ok(match (chars[i], two.as_str()) {
        (_, "&&") => "&&",
        (_, "||") => "||",
        (_, ";;") => return Err("syntax error: unexpected \";;\"".into()),
        ('\n', _) => "\n",
        (';', _) => ";",
        ('|', _) => "|",
        ('&', _) => "&",
        ('(', _) => "(",
        _ => ")",
    })
}

/// The inside of a double-quoted string, from just after its opening quote; returns
/// the index just after its closing quote.
fn lex_double_quoted(chars: &[char], mut i: usize, word: &mut Word) -> Result<usize, String> {
    // An empty "" still makes a word.
    push_lit(word, "", true);
    loop {
        let Some(&c) = chars.get(i) else {
            return Err("syntax error: unterminated quoted string".into());
        };
        match c {
            '"' => return Ok(i + 1),
            '\\' if matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`' | '\n')) => {
                push_lit(word, &chars[i + 1].to_string(), true);
                i += 2;
            }
            '$' => i = lex_dollar(chars, i, true, word)?,
            c => {
                push_lit(word, &c.to_string(), true);
                i += 1;
            }
        }
    }
}
