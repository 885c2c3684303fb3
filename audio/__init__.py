"""Audio side of VoxGate: reading clips, MFCC features, datasets. Never imports Qt."""
