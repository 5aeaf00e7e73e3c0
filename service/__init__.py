"""CALLE's HTTP service: ranked, explainable risk lists for planners and the ECMS.

Build the application with :func:`service.app.create_app`; `calle serve` runs it with uvicorn.
The service reads snapshots and the store and writes only keys and the audit log; it never
trains (architecture.md).
"""
