"""Load testing with locust (install the ``load`` extra). Import :mod:`flare_api.load.locust` explicitly:
importing locust monkey-patches the standard library with gevent."""
