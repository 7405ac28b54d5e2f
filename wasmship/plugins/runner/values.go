package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// encode turns the command line's numbers into the parameters of def, by its types.
func encode(def api.FunctionDefinition, args []string) ([]uint64, error) {
	types := def.ParamTypes()
	if len(args) != len(types) {
		return nil, fmt.Errorf("%s takes %d arguments (%s), given %d",
			def.ExportNames()[0], len(types), typeNames(types), len(args))
	}
	params := make([]uint64, len(types))
	for i, t := range types {
		var err error
		switch t {
		case api.ValueTypeI32:
			var v int64
			v, err = strconv.ParseInt(args[i], 0, 64)
			if err == nil && (v < math.MinInt32 || v > math.MaxUint32) {
				err = errors.New("out of range")
			}
			params[i] = uint64(uint32(v))
		case api.ValueTypeI64:
			var v int64
			v, err = strconv.ParseInt(args[i], 0, 64)
			params[i] = uint64(v)
		case api.ValueTypeF32:
			var v float64
			v, err = strconv.ParseFloat(args[i], 32)
			params[i] = api.EncodeF32(float32(v))
		case api.ValueTypeF64:
			var v float64
			v, err = strconv.ParseFloat(args[i], 64)
			params[i] = api.EncodeF64(v)
		default:
			err = errors.New("cannot be given on the command line")
		}
		if err != nil {
			return nil, fmt.Errorf("argument %d of %s: %q is not an %s (%v)",
				i+1, def.ExportNames()[0], args[i], api.ValueTypeName(t), err)
		}
	}
	return params, nil
}

// decode shows results by their types: i32 and i64 signed, floats as Go prints them.
func decode(types []api.ValueType, results []uint64) []string {
	out := make([]string, len(results))
	for i, v := range results {
		switch types[i] {
		case api.ValueTypeI32:
			out[i] = strconv.FormatInt(int64(api.DecodeI32(v)), 10)
		case api.ValueTypeI64:
			out[i] = strconv.FormatInt(int64(v), 10)
		case api.ValueTypeF32:
			out[i] = strconv.FormatFloat(float64(api.DecodeF32(v)), 'g', -1, 32)
		case api.ValueTypeF64:
			out[i] = strconv.FormatFloat(api.DecodeF64(v), 'g', -1, 64)
		default:
			out[i] = fmt.Sprintf("0x%x", v)
		}
	}
	return out
}

func typeNames(types []api.ValueType) string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = api.ValueTypeName(t)
	}
	return strings.Join(names, ", ")
}
