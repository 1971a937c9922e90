//! `$(( ... ))`: integer arithmetic with variables, as sh does it.

use std::collections::HashMap;

struct Arith<'a> {
    toks: Vec<String>,
    pos: usize,
    vars: &'a HashMap<String, String>,
    /// Operands open around the current one (`-`, `!`, parentheses nest on the stack).
    depth: usize,
}

/// Deeper nesting than this is an error, not a stack overflow.
const MAX_DEPTH: usize = 100;

fn tokenize(src: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(
                chars[start..i]
                    .iter()
                    .collect::<String>()
                    .trim_start_matches('$')
                    .to_string(),
            );
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["<=", ">=", "==", "!=", "&&", "||"].contains(&two.as_str()) {
                out.push(two);
                i += 2;
            } else if "+-*/%()<>!".contains(c) {
                out.push(c.to_string());
                i += 1;
            } else {
                return Err(format!("arithmetic syntax error: {src}"));
            }
        }
    }
    Ok(out)
}

impl Arith<'_> {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }

    fn binary(&mut self, level: usize) -> Result<i64, String> {
        const LEVELS: &[&[&str]] = &[
            &["||"],
            &["&&"],
            &["==", "!="],
            &["<", "<=", ">", ">="],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut lhs = self.binary(level + 1)?;
        while let Some(op) = self
            .peek()
            .filter(|op| LEVELS[level].contains(op))
            .map(String::from)
        {
            self.pos += 1;
            let rhs = self.binary(level + 1)?;
            lhs = match op.as_str() {
                "||" => ((lhs != 0) || (rhs != 0)) as i64,
                "&&" => ((lhs != 0) && (rhs != 0)) as i64,
                "==" => (lhs == rhs) as i64,
                "!=" => (lhs != rhs) as i64,
                "<" => (lhs < rhs) as i64,
                "<=" => (lhs <= rhs) as i64,
                ">" => (lhs > rhs) as i64,
                ">=" => (lhs >= rhs) as i64,
                "+" => lhs.wrapping_add(rhs),
                "-" => lhs.wrapping_sub(rhs),
                "*" => lhs.wrapping_mul(rhs),
                _ if rhs == 0 => return Err("arithmetic error: division by zero".into()),
                "/" => lhs.wrapping_div(rhs),
                _ => lhs.wrapping_rem(rhs),
            };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<i64, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("arithmetic syntax error: nested too deeply".into());
        }
        let value = self.operand();
        self.depth -= 1;
        value
    }

    fn operand(&mut self) -> Result<i64, String> {
        match self.peek() {
            Some("-") => {
                self.pos += 1;
                Ok(self.unary()?.wrapping_neg())
            }
            Some("+") => {
                self.pos += 1;
                self.unary()
            }
            Some("!") => {
                self.pos += 1;
                Ok((self.unary()? == 0) as i64)
            }
            Some("(") => {
                self.pos += 1;
                let v = self.binary(0)?;
                if self.peek() != Some(")") {
                    return Err("arithmetic syntax error: missing )".into());
                }
                self.pos += 1;
                Ok(v)
            }
            Some(tok) => {
                let tok = tok.to_string();
                self.pos += 1;
                if let Ok(n) = tok.parse::<i64>() {
                    return Ok(n);
                }
                if tok.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(format!("arithmetic syntax error: {tok}"));
                }
                let value = self.vars.get(&tok).map_or("0", String::as_str).trim();
                if value.is_empty() {
                    return Ok(0);
                }
                value
                    .parse()
                    .map_err(|_| format!("arithmetic syntax error: {value}"))
            }
            None => Err("arithmetic syntax error: missing operand".into()),
        }
    }
}

pub(crate) fn eval(src: &str, vars: &HashMap<String, String>) -> Result<i64, String> {
    let mut a = Arith {
        toks: tokenize(src)?,
        pos: 0,
        vars,
        depth: 0,
    };
    if a.toks.is_empty() {
        return Ok(0);
    }
    let v = a.binary(0)?;
    if a.pos != a.toks.len() {
        return Err(format!("arithmetic syntax error: {src}"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_with_variables() {
        let vars = HashMap::from([("i".to_string(), "4".to_string())]);
        assert_eq!(eval("i + 1", &vars), Ok(5));
        assert_eq!(eval("$i * (2 + 1) - 10 / 5", &vars), Ok(10));
        assert_eq!(eval("i < 5 && i >= 4", &vars), Ok(1));
        assert_eq!(eval("-i % 3", &vars), Ok(-1));
        assert!(eval("1 / 0", &vars).is_err());
        assert!(eval("1 +", &vars).is_err());
    }
}
