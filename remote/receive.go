package remote

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// commandStateDone is the CommandState of a finished command (MS-WSMV
// 2.2.5.4); Running and Pending mean poll again.
const commandStateDone = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"

// receiveResult is one ReceiveResponse: the output it carried, in the order
// of its rsp:Stream elements, and whether the command is Done.
type receiveResult struct {
	streams []streamChunk
	done    bool
	exit    int
}

// streamChunk is the decoded content of one rsp:Stream element.
type streamChunk struct {
	name string // Stdout or Stderr
	data []byte
	end  bool // End="true": the stream is complete
}

// xmlReceiveResponse mirrors rsp:ReceiveResponse; encoding/xml matches the
// namespace, so any prefix a host uses works.
type xmlReceiveResponse struct {
	Streams []struct {
		Name      string `xml:"Name,attr"`
		CommandID string `xml:"CommandId,attr"`
		End       string `xml:"End,attr"`
		Value     string `xml:",chardata"`
	} `xml:"Body>ReceiveResponse>Stream"`
	State *struct {
		CommandID string `xml:"CommandId,attr"`
		State     string `xml:"State,attr"`
		ExitCode  string `xml:"ExitCode"`
	} `xml:"Body>ReceiveResponse>CommandState"`
}

// parseReceive reads a ReceiveResponse for the command id. Windows sends one
// rsp:Stream per write of the process, so a line may be split across
// elements and across Receives; the chunks are returned as they came, for
// a line splitter to join. Streams of other commands are ignored, as is a
// CommandState about another command.
func parseReceive(body, id string) (receiveResult, error) {
	var x xmlReceiveResponse
	if err := xml.Unmarshal([]byte(body), &x); err != nil {
		return receiveResult{}, fmt.Errorf("receive response: %w", err)
	}
	var r receiveResult
	for _, st := range x.Streams {
		if st.CommandID != "" && !strings.EqualFold(st.CommandID, id) {
			continue
		}
		var name string
		switch st.Name {
		case Stdout, Stderr:
			name = st.Name
		default:
			return receiveResult{}, fmt.Errorf("receive response: unknown stream %q", st.Name)
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Value))
		if err != nil {
			return receiveResult{}, fmt.Errorf("receive response: %s stream: %w", name, err)
		}
		r.streams = append(r.streams, streamChunk{name: name, data: data, end: strings.EqualFold(st.End, "true")})
	}
	if x.State == nil {
		return receiveResult{}, errors.New("receive response: no CommandState")
	}
	if x.State.CommandID != "" && !strings.EqualFold(x.State.CommandID, id) {
		return r, nil
	}
	if strings.TrimSpace(x.State.State) == commandStateDone {
		r.done, r.exit = true, -1
		if strings.TrimSpace(x.State.ExitCode) == "" {
			return r, nil // optional in MS-WSMV 2.2.4.9: unknown, never success
		}
		// Windows writes the exit code as an unsigned 32-bit number
		// (4294967295 for -1); read it back as the signed value it is.
		code, err := strconv.ParseUint(strings.TrimSpace(x.State.ExitCode), 10, 32)
		if err != nil {
			return receiveResult{}, fmt.Errorf("receive response: exit code %q: %w", x.State.ExitCode, err)
		}
		r.exit = int(int32(uint32(code)))
	}
	return r, nil
}
