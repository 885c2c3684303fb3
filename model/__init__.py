"""The recogniser's network: config -> cells -> recurrent stack -> classifier. Never imports Qt."""
