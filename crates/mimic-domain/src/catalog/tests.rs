use super::*;

/// The aliases mimic-server's former CATALOG table served, which the alias document keeps: (alias, publisher, offer, sku).
const TODAY: &[(&str, &str, &str, &str)] = &[
    ("AzureLinux4", "microsoftazurelinux", "azurelinux-4", "4"),
    ("AzureLinux4Arm64", "microsoftazurelinux", "azurelinux-4", "4-arm64"),
    ("AzureLinux4Gen1", "microsoftazurelinux", "azurelinux-4", "4-gen1"),
    ("CentOS85Gen2", "OpenLogic", "CentOS", "8_5-gen2"),
    ("Debian11", "Debian", "debian-11", "11-backports-gen2"),
    ("FlatcarLinuxFreeGen2", "kinvolk", "flatcar-container-linux-free", "stable-gen2"),
    ("OpenSuseLeap154Gen2", "SUSE", "openSUSE-leap-15-4", "gen2"),
    ("RHELRaw8LVMGen2", "RedHat", "RHEL", "8-lvm-gen2"),
    ("SuseSles15SP3", "SUSE", "sles-15-sp3", "gen2"),
    ("Ubuntu2204", "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"),
    ("Ubuntu2404", "Canonical", "ubuntu-24_04-lts", "server"),
    ("Win2022Datacenter", "MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-g2"),
    ("Win2022AzureEditionCore", "MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition-core"),
    ("Win2019Datacenter", "MicrosoftWindowsServer", "WindowsServer", "2019-datacenter-gensecond"),
    ("Win2016Datacenter", "MicrosoftWindowsServer", "WindowsServer", "2016-datacenter-gensecond"),
    ("Win2012R2Datacenter", "MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter"),
    ("Win2012Datacenter", "MicrosoftWindowsServer", "WindowsServer", "2012-Datacenter"),
];

#[test]
fn data_parses() {
    assert!(images().count() >= 60);
    assert!(vm_sizes().len() >= 70);
}

#[test]
fn todays_aliases_resolve_unchanged() {
    assert_eq!(aliases().count(), TODAY.len());
    for (a, p, o, s) in TODAY {
        let i = alias(a).unwrap_or_else(|| panic!("alias {a}"));
        assert_eq!((i.publisher.as_str(), i.offer.as_str(), i.sku.as_str()), (*p, *o, *s), "{a}");
    }
    let doc = alias_document();
    assert_eq!(doc["Linux"]["Ubuntu2204"]["sku"], "22_04-lts-gen2");
    assert_eq!(doc["Windows"]["Win2022Datacenter"]["version"], "latest");
}

#[test]
fn issue_22_urns_resolve() {
    for urn in [
        "Debian:debian-10:10:latest",
        "Canonical:UbuntuServer:18.04-LTS:latest",
        "canonical:0001-com-ubuntu-server-focal:20_04-lts-gen2:latest",
    ] {
        let (i, v) = image_urn(urn).unwrap_or_else(|| panic!("{urn}"));
        assert_eq!(v, i.versions[0], "{urn}");
    }
    let (_, v) = image("canonical", "ubuntuserver", "18.04-lts", "18.04.202306070").unwrap();
    assert_eq!(v, "18.04.202306070");
    assert!(image("Canonical", "UbuntuServer", "18.04-LTS", "1.2.3").is_none());
    assert_eq!(image("Canonical", "UbuntuServer", "18.04-LTS", "latest").unwrap().0.hyper_v_generation, "V1");
}

#[test]
fn listings() {
    let p = publishers("westeurope");
    for want in
        ["Canonical", "Debian", "MicrosoftWindowsServer", "MicrosoftWindowsDesktop", "RedHat", "SUSE", "Oracle", "almalinux", "OpenLogic"]
    {
        assert!(p.contains(&want), "{want}");
    }
    assert!(offers("canonical").contains(&"0001-com-ubuntu-server-focal"));
    assert!(skus("Debian", "debian-12").contains(&"12-arm64"));
    assert_eq!(versions("Debian", "debian-12", "12-gen2")[0], "0.20250703.2162");
    assert!(versions("Nope", "x", "y").is_empty());
}

#[test]
fn no_duplicates_and_versions_newest_first() {
    let mut keys: Vec<String> = images().map(|i| format!("{}:{}:{}", i.publisher, i.offer, i.sku).to_lowercase()).collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "duplicate image keys");
    let mut al: Vec<String> = aliases().map(|(a, _)| a.to_lowercase()).collect();
    let n = al.len();
    al.sort();
    al.dedup();
    assert_eq!(al.len(), n, "duplicate aliases");
    let mut sz: Vec<String> = vm_sizes().iter().map(|s| s.name.to_lowercase()).collect();
    let n = sz.len();
    sz.sort();
    sz.dedup();
    assert_eq!(sz.len(), n, "duplicate sizes");
    let parts = |v: &str| v.split('.').map(|x| x.parse::<u64>().unwrap()).collect::<Vec<_>>();
    for i in images() {
        assert!(!i.versions.is_empty(), "{}", i.sku);
        for w in i.versions.windows(2) {
            assert!(parts(&w[0]) > parts(&w[1]), "{}:{} {:?}", i.offer, i.sku, i.versions);
        }
        assert!(["V1", "V2"].contains(&i.hyper_v_generation.as_str()));
        assert!(["x64", "Arm64"].contains(&i.architecture.as_str()));
        assert!(["Linux", "Windows"].contains(&i.os_type.as_str()));
    }
}

#[test]
fn sizes_and_resource_skus() {
    let b1s = vm_size("standard_b1s").unwrap();
    assert_eq!((b1s.number_of_cores, b1s.memory_in_mb), (1, 1024));
    assert!(vm_size("Standard_DS1_v2").is_some() && vm_size("Standard_D2s_v3").is_some());
    let wire = serde_json::to_value(b1s).unwrap();
    assert_eq!(wire["osDiskSizeInMB"], 1047552);
    assert!(wire.get("family").is_none());
    let skus = resource_skus("westeurope");
    assert_eq!(skus.len(), vm_sizes().len());
    let s = skus.iter().find(|s| s.name == "Standard_B1ls").unwrap();
    let j = serde_json::to_value(s).unwrap();
    assert_eq!(j["resourceType"], "virtualMachines");
    assert_eq!(j["tier"], "Standard");
    assert_eq!(j["size"], "B1ls");
    assert_eq!(j["locationInfo"][0]["zones"], serde_json::json!(["1", "2", "3"]));
    let cap = |n: &str| s.capabilities.iter().find(|c| c.name == n).unwrap().value.clone();
    assert_eq!(cap("MemoryGB"), "0.5");
    assert_eq!(cap("vCPUs"), "1");
    assert_eq!(cap("CpuArchitectureType"), "x64");
}
