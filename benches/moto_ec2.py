"""The peer of Mimic's ARM writes in moto's server mode: EC2's equivalents, set up through boto3
and handed to wrk as SigV4-signed requests.

  tags      `CreateTags` on one instance, a different tag value on every call (the peer of the
            resource group's tag PATCH)
  identity  `ReplaceIamInstanceProfileAssociation` on that instance, alternating between two
            instance profiles (the peer of attaching and detaching a VM's user-assigned identity:
            EC2's instance profile is the AWS counterpart of a VM's managed identity; a replace
            is used because `AssociateIamInstanceProfile` refuses an instance that has one)

Each request is signed once with botocore's SigV4 (fake credentials, as moto accepts) and
replayed by wrk: moto reads the access key and the service from the Authorization header but
does not verify the signature or its date, so a replayed request is served like a fresh one.
Prints one JSON object: {"tags": {...}, "identity": {...}}, each {method, path, headers, bodies}.
Usage: moto_ec2.py http://127.0.0.1:PORT"""
import json
import sys

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

URL = sys.argv[1].rstrip("/")
REGION = "us-east-1"
CREDS = Credentials("testing", "testing")
EC2_VERSION = "2016-11-15"


def client(service):
    return boto3.client(service, endpoint_url=URL, region_name=REGION,
                        aws_access_key_id=CREDS.access_key, aws_secret_access_key=CREDS.secret_key)


def signed(params_list):
    """The EC2 query requests, each signed as botocore signs it; headers shared by all."""
    bodies, headers = [], None
    for params in params_list:
        body = "&".join(f"{k}={v}" for k, v in {"Action": params.pop("Action"), "Version": EC2_VERSION, **params}.items())
        req = AWSRequest(method="POST", url=URL + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(CREDS, "ec2", REGION).add_auth(req)
        h = {k: v for k, v in req.headers.items() if k.lower() in ("authorization", "x-amz-date", "content-type")}
        # Every body is answered 200 before wrk repeats it.
        r = requests.post(URL + "/", data=body.replace("{n}", "probe"), headers=h)
        if r.status_code != 200:
            raise SystemExit(f"moto answered {r.status_code} to {body}: {r.text[:300]}")
        headers = headers or h
        bodies.append(body)
    return {"method": "POST", "path": "/", "headers": headers, "bodies": bodies}


ec2, iam = client("ec2"), client("iam")
ami = ec2.describe_images()["Images"][0]["ImageId"]
instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]["InstanceId"]
for name in ("bench-a", "bench-b"):
    iam.create_instance_profile(InstanceProfileName=name)
assoc = ec2.associate_iam_instance_profile(InstanceId=instance, IamInstanceProfile={"Name": "bench-a"})
assoc_id = assoc["IamInstanceProfileAssociation"]["AssociationId"]
print(json.dumps({
    "instance": instance,
    "tags": signed([{"Action": "CreateTags", "ResourceId.1": instance, "Tag.1.Key": "bench", "Tag.1.Value": "{n}"}]),
    "identity": signed([{"Action": "ReplaceIamInstanceProfileAssociation", "AssociationId": assoc_id, "IamInstanceProfile.Name": n}
                        for n in ("bench-b", "bench-a")]),
}))
