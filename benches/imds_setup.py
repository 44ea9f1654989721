"""Create a VM with a system-assigned identity in a running Mimic and print its IMDS address.
Usage: imds_setup.py DATA_DIR   (logic of the issue-5 helper mk.py)."""
import json, sys, requests
d = sys.argv[1]
e = json.load(open(f'{d}/endpoints.json')); b = json.load(open(f'{d}/bootstrap.json'))
s = requests.Session(); s.verify = f'{d}/ca.pem'; s.trust_env = False
t = s.post(f"{e['login']}/{b['tenantId']}/oauth2/v2.0/token", data={'grant_type': 'client_credentials',
    'client_id': b['servicePrincipal']['clientId'], 'client_secret': b['servicePrincipal']['clientSecret'],
    'scope': 'https://management.azure.com/.default'}).json()['access_token']
h = {'Authorization': 'Bearer ' + t}; sub = b['subscriptionId']
rg = f'/subscriptions/{sub}/resourceGroups/rg'; base = e['arm'] + rg
s.put(base + '?api-version=2021-04-01', json={'location': 'westus'}, headers=h).raise_for_status()
s.put(base + '/providers/Microsoft.Network/networkInterfaces/n?api-version=2024-05-01',
      json={'location': 'westus', 'properties': {}}, headers=h).raise_for_status()
s.put(base + '/providers/Microsoft.Compute/virtualMachines/vm?api-version=2024-11-01', json={'location': 'westus',
      'identity': {'type': 'SystemAssigned'}, 'properties': {'hardwareProfile': {'vmSize': 'B1s'},
      'networkProfile': {'networkInterfaces': [{'id': rg + '/providers/Microsoft.Network/networkInterfaces/n'}]}}},
      headers=h).raise_for_status()
r = s.post(e['arm'] + '/mimic/vm-imds?api-version=2024-11-01',
           json={'vmId': rg + '/providers/Microsoft.Compute/virtualMachines/vm'}, headers=h)
r.raise_for_status(); print(r.json()['imds'])
