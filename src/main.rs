use std::process::ExitCode;

use clap::Parser;
use splitscope::cli::{Cli, Command, DemoArgs};
use splitscope::sandbox::{CONTEXT, NAMESPACE, ROUTE, Sandbox, SandboxOptions};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("splitscope: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => demo(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("splitscope: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    if !args.serve {
        anyhow::bail!(
            "the watch screen is not part of this build yet: run `splitscope demo --serve --write-kubeconfig FILE` to serve the sandbox"
        );
    }
    let options = SandboxOptions {
        istio: args.istio.clone(),
        weights: args.weights,
        propagation_delay: args.propagation_delay,
        port: args.port,
    };
    let sandbox = Sandbox::start(options).await?;
    if let Some(path) = &args.write_kubeconfig {
        sandbox.write_kubeconfig(path).map_err(|e| {
            anyhow::anyhow!("cannot write the kubeconfig to {}: {e}", path.display())
        })?;
    }
    let (w1, w2) = args.weights;
    println!(
        "splitscope sandbox: Istio {} ambient mesh, TCPRoute {ROUTE} weights tcp-echo-v1={w1} tcp-echo-v2={w2}",
        args.istio
    );
    println!("API server: {} (namespace {NAMESPACE})", sandbox.url());
    match &args.write_kubeconfig {
        Some(path) => {
            println!("kubeconfig: {} (context {CONTEXT})", path.display());
            println!();
            println!("Try:");
            println!("  export KUBECONFIG={}", path.display());
        }
        None => {
            println!(
                "No kubeconfig written (add --write-kubeconfig FILE); the bearer token is {}",
                sandbox.token()
            );
            println!();
            println!("Try:");
        }
    }
    println!("  kubectl get tcproute,envoyfilter,pods");
    println!(
        "  kubectl exec deploy/curl -- sh -c \"while true; do date | nc tcp-echo 9000; sleep 2; done\""
    );
    println!();
    println!("Ctrl-C or SIGTERM stops the sandbox.");
    wait_for_stop().await;
    println!("splitscope sandbox stopped.");
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
