//! Runs parsed scripts: expansion, pipelines, lists and loops.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::parse::{Node, Part, Word, parse};
use super::process::{Env, ExitNow, Flow, Shell, Sink};
use super::{arith, commands};

type BoxFlow<'a> = Pin<Box<dyn Future<Output = Flow> + Send + 'a>>;

impl Shell {
    /// Runs a script, as `sh -c` does.
    pub async fn script(&mut self, src: &str, stdin: Vec<u8>, sink: &mut Sink) -> Flow {
        match parse(src) {
            Ok(node) => self.run(&node, stdin, sink).await,
            Err(e) => {
                self.error(&format!("sh: {e}"));
                Ok(2)
            }
        }
    }

    pub fn run<'a>(
        &'a mut self,
        node: &'a Node,
        stdin: Vec<u8>,
        sink: &'a mut Sink,
    ) -> BoxFlow<'a> {
        Box::pin(async move {
            let status = match node {
                Node::Simple { assigns, words } => self.simple(assigns, words, stdin, sink).await?,
                Node::List(items) => {
                    let mut status = 0;
                    for item in items {
                        status = self.run(item, Vec::new(), sink).await?;
                    }
                    status
                }
                Node::AndOr { first, rest } => {
                    let mut status = self.run(first, stdin, sink).await?;
                    for (and, node) in rest {
                        if (status == 0) == *and {
                            status = self.run(node, Vec::new(), sink).await?;
                        }
                    }
                    status
                }
                Node::Pipeline { negate, stages } => {
                    let status = self.pipeline(stages, stdin, sink).await?;
                    if *negate {
                        (status == 0) as i32
                    } else {
                        status
                    }
                }
                Node::Loop { until, cond, body } => {
                    self.while_loop(*until, cond, body, sink).await?
                }
                Node::For { var, words, body } => self.for_loop(var, words, body, sink).await?,
                Node::If {
                    branches,
                    otherwise,
                } => self.if_chain(branches, otherwise.as_deref(), sink).await?,
            };
            self.status = status;
            Ok(status)
        })
    }

    /// Stages run one after another, each reading what the previous wrote: enough for
    /// `date | nc`, whose first stage ends at once.
    async fn pipeline(&mut self, stages: &[Node], stdin: Vec<u8>, sink: &mut Sink) -> Flow {
        let mut input = stdin;
        let mut status = 0;
        for (i, stage) in stages.iter().enumerate() {
            if i + 1 == stages.len() {
                status = self.run(stage, std::mem::take(&mut input), sink).await?;
            } else {
                let mut buf = Sink::Buffer(Vec::new());
                self.run(stage, std::mem::take(&mut input), &mut buf)
                    .await?;
                if let Sink::Buffer(b) = buf {
                    input = b;
                }
            }
        }
        Ok(status)
    }

    /// `while` (or `until`, when `until` holds) `cond; do body; done`.
    async fn while_loop(&mut self, until: bool, cond: &Node, body: &Node, sink: &mut Sink) -> Flow {
        let mut status = 0;
        loop {
            // Let other tasks run even when a loop body never waits.
            tokio::task::yield_now().await;
            let c = self.run(cond, Vec::new(), sink).await?;
            if (c == 0) == until {
                break;
            }
            status = self.run(body, Vec::new(), sink).await?;
        }
        Ok(status)
    }

    async fn for_loop(&mut self, var: &str, words: &[Word], body: &Node, sink: &mut Sink) -> Flow {
        let mut items = Vec::new();
        for w in words {
            match self.expand(w, true).await {
                Ok(fields) => items.extend(fields),
                Err(e) => {
                    self.error(&format!("sh: {e}"));
                    return Ok(1);
                }
            }
        }
        let mut status = 0;
        for item in items {
            tokio::task::yield_now().await;
            self.vars.insert(var.to_string(), item);
            status = self.run(body, Vec::new(), sink).await?;
        }
        Ok(status)
    }

    async fn if_chain(
        &mut self,
        branches: &[(Node, Node)],
        otherwise: Option<&Node>,
        sink: &mut Sink,
    ) -> Flow {
        for (cond, body) in branches {
            if self.run(cond, Vec::new(), sink).await? == 0 {
                return self.run(body, Vec::new(), sink).await;
            }
        }
        match otherwise {
            Some(body) => self.run(body, Vec::new(), sink).await,
            None => Ok(0),
        }
    }

    async fn simple(
        &mut self,
        assigns: &[(String, Word)],
        words: &[Word],
        stdin: Vec<u8>,
        sink: &mut Sink,
    ) -> Flow {
        let mut values = Vec::new();
        for (name, word) in assigns {
            match self.expand(word, false).await {
                Ok(v) => values.push((name.clone(), v.join(" "))),
                Err(e) => {
                    self.error(&format!("sh: {e}"));
                    return Ok(1);
                }
            }
        }
        let mut argv = Vec::new();
        for word in words {
            match self.expand(word, true).await {
                Ok(fields) => argv.extend(fields),
                Err(e) => {
                    self.error(&format!("sh: {e}"));
                    return Ok(1);
                }
            }
        }
        if argv.is_empty() {
            for (k, v) in values {
                self.vars.insert(k, v);
            }
            return Ok(0);
        }
        // Assignments before a command only reach that command; we keep them simple.
        for (k, v) in values {
            self.vars.insert(k, v);
        }
        commands::run(self, argv, stdin, sink).await
    }

    /// Expands a word into fields; unquoted expansions split on whitespace.
    pub fn expand<'a>(
        &'a mut self,
        word: &'a Word,
        split: bool,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<String>, String>> + Send + 'a>> {
        Box::pin(async move {
            let mut fields: Vec<String> = Vec::new();
            let mut current = String::new();
            let mut has_current = false;
            for part in word {
                let (text, quoted) = match part {
                    Part::Lit(s, _) => (s.clone(), true),
                    Part::Var(name, q) => (self.var(name), *q),
                    Part::Arith(expr, q) => {
                        // Expand $(...) inside the expression first.
                        let inner = super::parse::parse(&format!("echo {expr}")).ok();
                        let expanded = match inner {
                            Some(Node::List(items)) if items.len() == 1 => match &items[0] {
                                Node::Simple { words, .. } => {
                                    let mut out = Vec::new();
                                    for w in &words[1..] {
                                        out.extend(self.expand(w, false).await?);
                                    }
                                    out.join(" ")
                                }
                                _ => expr.clone(),
                            },
                            _ => expr.clone(),
                        };
                        (arith::eval(&expanded, &self.vars)?.to_string(), *q)
                    }
                    Part::Subst(src, q) => {
                        let mut buf = Sink::Buffer(Vec::new());
                        let mut sub = self
                            .child()
                            .ok_or("command substitutions nested too deeply")?;
                        let status = match sub.script(src, Vec::new(), &mut buf).await {
                            Ok(s) | Err(ExitNow(s)) => s,
                        };
                        self.status = status;
                        let text = match buf {
                            Sink::Buffer(b) => String::from_utf8_lossy(&b)
                                .trim_end_matches('\n')
                                .to_string(),
                            Sink::Stream => String::new(),
                        };
                        (text, *q)
                    }
                };
                if quoted || !split {
                    current.push_str(&text);
                    has_current = true;
                } else {
                    let mut pieces = text.split_whitespace().peekable();
                    if text.starts_with(char::is_whitespace) && has_current {
                        fields.push(std::mem::take(&mut current));
                        has_current = false;
                    }
                    while let Some(piece) = pieces.next() {
                        current.push_str(piece);
                        has_current = true;
                        if pieces.peek().is_some() {
                            fields.push(std::mem::take(&mut current));
                        }
                    }
                    if text.ends_with(char::is_whitespace) && has_current {
                        fields.push(std::mem::take(&mut current));
                        has_current = false;
                    }
                }
            }
            if has_current {
                fields.push(current);
            }
            Ok(fields)
        })
    }

    fn var(&self, name: &str) -> String {
        match name {
            "?" => self.status.to_string(),
            "$" => "1".into(),
            "#" => "0".into(),
            "HOSTNAME" => self.env.pod.clone(),
            _ => self.vars.get(name).cloned().unwrap_or_default(),
        }
    }
}

/// Runs `argv` in a pod as a container runtime's exec does; returns the exit code.
pub async fn exec(env: Env, argv: Vec<String>) -> i32 {
    let mut shell = Shell::new(Arc::new(env));
    shell.vars.insert("HOME".into(), "/root".into());
    shell.vars.insert(
        "PATH".into(),
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
    );
    let Some(program) = argv.first() else {
        shell.error("OCI runtime exec failed: exec failed: no command given: unknown");
        return 126;
    };
    if !commands::is_known(program) {
        shell.error(&format!(
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{program}\": executable file not found in $PATH: unknown"
        ));
        return 127;
    }
    let mut sink = Sink::Stream;
    match commands::run(&mut shell, argv, Vec::new(), &mut sink).await {
        Ok(code) | Err(ExitNow(code)) => code,
    }
}
