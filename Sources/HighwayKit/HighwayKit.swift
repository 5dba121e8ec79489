@_exported import HighwayTensor
@_exported import HighwayData
@_exported import HighwayNN
