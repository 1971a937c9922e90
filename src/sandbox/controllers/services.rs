//! Services get a cluster IP.

use serde_json::{Value, json};

use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::SERVICES;

pub(super) fn cluster_ips(store: &mut Store) {
    let svc_res = &SERVICES;
    let missing: Vec<Value> = store
        .all(svc_res)
        .filter(|s| s.pointer("/spec/clusterIP").is_none())
        .cloned()
        .collect();
    for mut svc in missing {
        let n = store.revision();
        svc["spec"]["clusterIP"] = json!(format!("10.96.{}.{}", (n / 250) % 250, n % 250 + 2));
        svc["spec"]["clusterIPs"] = json!([svc["spec"]["clusterIP"].clone()]);
        if svc.pointer("/spec/type").is_none() {
            svc["spec"]["type"] = json!("ClusterIP");
        }
        store.put_internal(svc_res, svc);
    }
}
